"""Score histograms as a PNG, drawn with Pillow (no plotting library on the appliance)."""
from __future__ import annotations

from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw

WIDTH, HEIGHT, MARGIN = 900, 360, 40
COLOURS = {"genuine": (40, 140, 60), "impostor": (200, 60, 50)}


def draw_histograms(panels: list[tuple[str, np.ndarray, np.ndarray]], threshold: float, path: Path) -> None:
    """One panel per (title, genuine, impostor); the threshold is a vertical blue line."""
    canvas = Image.new("RGB", (WIDTH, HEIGHT * len(panels)), "white")
    for index, (title, genuine, impostor) in enumerate(panels):
        _panel(ImageDraw.Draw(canvas), index * HEIGHT, title, genuine, impostor, threshold)
    path.parent.mkdir(parents=True, exist_ok=True)
    canvas.save(path)


def _panel(draw: ImageDraw.ImageDraw, top: int, title: str, genuine, impostor, threshold: float) -> None:
    bins = np.linspace(-0.4, 1.0, 71)
    plot_w, plot_h = WIDTH - 2 * MARGIN, HEIGHT - 2 * MARGIN
    base = top + HEIGHT - MARGIN
    draw.text((MARGIN, top + 10), f"{title}  (green genuine n={len(genuine)}, red impostor n={len(impostor)}, "
                                  f"blue threshold {threshold:.3f}; bars: share of each class)", fill="black")
    for name, scores in (("impostor", impostor), ("genuine", genuine)):
        counts, _ = np.histogram(scores, bins=bins)
        share = counts / max(1, len(scores))
        for i, value in enumerate(share):
            x0 = MARGIN + i * plot_w / (len(bins) - 1)
            height = min(1.0, value / 0.25) * plot_h
            draw.rectangle([x0 + 1, base - height, x0 + plot_w / (len(bins) - 1) - 1, base],
                           outline=COLOURS[name])
    draw.line([MARGIN, base, WIDTH - MARGIN, base], fill="black")
    for tick in np.arange(-0.4, 1.01, 0.2):
        x = MARGIN + (tick + 0.4) / 1.4 * plot_w
        draw.text((x - 10, base + 5), f"{tick:.1f}", fill="black")
    tx = MARGIN + (threshold + 0.4) / 1.4 * plot_w
    draw.line([tx, top + MARGIN, tx, base], fill=(30, 60, 220), width=2)
