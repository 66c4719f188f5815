"""Face verification (the appliance's only onnxruntime user).

detector (YuNet) -> align (ArcFace 112x112 template) -> quality gate -> embedder (SFace) -> cosine
score against the chip portrait, with the threshold calibrated in models/manifest.json.
`verifier.build_verifier()` hash-checks and warms the models; `capture.CaptureLoop` runs the
camera side; `pad` states honestly that no presentation attack detection is performed.
Submodules are imported explicitly so that importing this package loads no model runtime.
"""
