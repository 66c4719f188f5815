"""SFace embedding of an aligned crop and the cosine score between two embeddings."""
from __future__ import annotations

import numpy as np

from .errors import EmbeddingFailed

EMBEDDING_SIZE = 128


class SFaceEmbedder:
    def __init__(self, session):
        self._session = session
        self._output = session.output_names[0]

    def embed(self, aligned_bgr: np.ndarray) -> np.ndarray:
        """Return the L2-normalised 128-d embedding of a 112x112 BGR crop."""
        rgb = aligned_bgr[:, :, ::-1]  # SFace was trained on RGB crops, raw 0..255
        tensor = np.ascontiguousarray(rgb.transpose(2, 0, 1)[None], dtype=np.float32)
        vector = self._session.run(tensor)[self._output].reshape(-1)
        return normalise(vector)


def normalise(vector: np.ndarray) -> np.ndarray:
    norm = float(np.linalg.norm(vector))
    if not np.isfinite(norm) or norm == 0.0:
        raise EmbeddingFailed("embedding has no direction")
    return (vector / norm).astype(np.float32)


def cosine_score(a: np.ndarray, b: np.ndarray) -> float:
    """Cosine similarity of two normalised embeddings, in [-1, 1]."""
    return float(np.clip(np.dot(a, b), -1.0, 1.0))
