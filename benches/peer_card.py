"""The card.toml of a converted peer model (benches/esrgan_slim.py,
benches/realesrgan.py): edgegan's model-directory contract (NCHW, RGB in
[0, 1], one f32 graph with its sha256), marked as a peer in its description
and training table."""


def card(name: str, scale: int, sha: str, field: int, description: str, method: str,
         package: str, license: str, params: int, macs: float) -> str:
    return f'''name = "{name}"
task = "super-resolution"
scale = {scale}
description = "{description}"

[io]
layout = "NCHW"
channels = 3
range = [0.0, 1.0]
receptive_field = {field}

[runtime]
tile = 128
conv_path = "auto"

[files.f32]
path = "model.onnx"
sha256 = "{sha}"

[training]
method = "{method}"
package = "{package}"
license = "{license}"
parameters = {params}
macs_per_output_pixel = {macs:.1f}
'''
