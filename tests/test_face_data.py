"""Verification on ../shared/data/faces (13 people, multi-person scenes). Skips without the data."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from firmware_app.face.images import decode_image, load_image
from firmware_app.face.portrait import PortraitCodec, chip_portrait
from firmware_app.face.quality import LIVE_LIMITS, QualityIssue
from firmware_app.face.verifier import Decision

MODELS = Path(__file__).resolve().parents[1] / "models"


@pytest.fixture(scope="module")
def photos(shared_data, verifier):
    """identity, file name, live embedding, and the chip-quality JPEG portrait of every photo."""
    records = []
    for folder in sorted((shared_data / "faces").iterdir()):
        if not folder.is_dir() or folder.name.startswith("_"):
            continue
        for path in sorted(folder.glob("*.jpg")):
            image = load_image(path)
            sample = verifier.analyse(image, LIVE_LIMITS, embed_always=True)
            records.append({"id": folder.name, "name": path.name, "embedding": sample.embedding,
                            "issues": sample.quality.issues,
                            "portrait": chip_portrait(image, sample.face, PortraitCodec.JPEG)})
    return records


def test_every_photo_has_a_face(photos):
    assert len(photos) == 61
    assert all(record["embedding"] is not None for record in photos)


def test_every_genuine_score_beats_every_impostor_score_for_each_probe(photos):
    embeddings = np.stack([record["embedding"] for record in photos])
    scores = embeddings @ embeddings.T
    ids = np.array([record["id"] for record in photos])
    for probe in range(len(photos)):
        others = np.arange(len(photos)) != probe
        genuine = scores[probe, others & (ids == ids[probe])]
        impostor = scores[probe, others & (ids != ids[probe])]
        assert genuine.min() > impostor.max(), f"probe {photos[probe]['id']}/{photos[probe]['name']}"


def test_no_single_person_photo_is_refused_for_multiple_faces(photos):
    # person05/img62 has a bystander cut off by the frame edge, person13/img41 and others have
    # background detections (0.74-0.83): none is a second person in the capture
    refused = [f"{r['id']}/{r['name']}" for r in photos if QualityIssue.MULTIPLE_FACES in r["issues"]]
    assert refused == []


@pytest.mark.parametrize("scene", ["couple.jpg", "selfie-many-people.jpg"])
def test_multi_person_scenes_are_refused(shared_data, verifier, photos, scene):
    reference = verifier.reference(decode_image(photos[0]["portrait"]))
    live = load_image(shared_data / "faces" / "_scenes" / scene)
    result = verifier.compare(reference, verifier.analyse(live, LIVE_LIMITS))
    assert result.decision is Decision.QUALITY_REFUSED
    assert QualityIssue.MULTIPLE_FACES in result.quality.issues


def test_chip_quality_references_still_match_and_still_refuse_impostors(photos, verifier):
    """JPEG portraits (240 px, <= 15 KB) of each photo against every other photo."""
    wrong = []
    for ref in photos:
        assert len(ref["portrait"]) <= 15_000
        reference = verifier.reference(decode_image(ref["portrait"]))
        for live in photos:
            if live is ref:
                continue
            matched = float(np.dot(reference.embedding, live["embedding"])) >= verifier.threshold
            if matched != (live["id"] == ref["id"]):
                wrong.append((ref["name"], live["name"]))
    assert wrong == []


def test_jpeg2000_chip_portrait_matches_its_person(shared_data, verifier, photos):
    image = load_image(shared_data / "faces" / "person03" / "img8.jpg")
    sample = verifier.analyse(image, LIVE_LIMITS)
    portrait = chip_portrait(image, sample.face, PortraitCodec.JPEG2000)
    assert portrait[:12] != b"" and len(portrait) <= 15_000
    live = load_image(shared_data / "faces" / "person03" / "img47.jpg")
    assert verifier.verify(decode_image(portrait), live).decision is Decision.MATCH
    other = load_image(shared_data / "faces" / "person04" / "img14.jpg")
    assert verifier.verify(decode_image(portrait), other).decision is Decision.NO_MATCH
