"""Alignment of a face to the 112x112 ArcFace template used by SFace."""
from __future__ import annotations

import cv2
import numpy as np

from .detector import Face
from .errors import AlignmentFailed

CROP_SIZE = 112
# Standard ArcFace/InsightFace 5-point template for a 112x112 crop (subject's right eye first).
TEMPLATE = np.array([[38.2946, 51.6963], [73.5318, 51.5014], [56.0252, 71.7366],
                     [41.5493, 92.3655], [70.7299, 92.2041]], dtype=np.float32)
TEMPLATE_EYE_DISTANCE = float(np.linalg.norm(TEMPLATE[1] - TEMPLATE[0]))


def similarity_transform(landmarks: np.ndarray) -> np.ndarray:
    matrix, _ = cv2.estimateAffinePartial2D(landmarks.astype(np.float32), TEMPLATE, method=cv2.LMEDS)
    if matrix is None or not np.all(np.isfinite(matrix)):
        raise AlignmentFailed("landmarks are degenerate")
    return matrix


def align_face(image: np.ndarray, face: Face) -> np.ndarray:
    """Return the 112x112 BGR crop. Large images are shrunk first so the warp does not alias."""
    shrink = min(1.0, 2.0 * TEMPLATE_EYE_DISTANCE / max(face.eye_distance, 1e-6))
    if shrink < 0.5:
        size = (max(1, round(image.shape[1] * shrink)), max(1, round(image.shape[0] * shrink)))
        image = cv2.resize(image, size, interpolation=cv2.INTER_AREA)
        face = face.scaled(shrink)
    matrix = similarity_transform(face.landmarks)
    return cv2.warpAffine(image, matrix, (CROP_SIZE, CROP_SIZE), flags=cv2.INTER_LINEAR,
                          borderMode=cv2.BORDER_CONSTANT)
