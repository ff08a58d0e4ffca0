"""Every knob of a dream in one frozen, validated dataclass, and the named presets.

Contract:
- ``DreamConfig`` holds every hyperparameter: which model, which layers (with a weight each),
  which single channels (layer, channel, weight), an optional guide image with its strength and
  layer, an optional mask (where the dream goes), the gradient normalisation (``std`` or
  ``laplacian``), whether the dream starts from a photo or from noise, steps per octave, step
  size, octaves, octave scale, tile size, max working side, seed, keep-colours, and how often
  a preview is produced; for a dream from noise, how the picture is held (``param``: a Fourier,
  colour-decorrelated spectrum or raw pixels) and the random transforms each step sees.
- Construction validates everything and raises ``ValueError`` with a sentence a
  non-programmer can act on. A config that exists is a config that can run.
- Presets are plain instances (``PRESETS``); ``DreamConfig.with_model`` moves a config to the
  other model, translating layer names by depth and the max working side by the deepest
  layer's stride (``moved_max_side``), so a preset means the same look, at the same pattern
  size, on both.
- Pure Python: importing this module does not import TensorFlow.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass, field

from .checks import check_float as _check_float
from .checks import check_int as _check_int
from .guide import Guide
from .mask import Mask
from .models.catalog import INCEPTION_V3, NETWORKS, VGG16_OFFLINE  # noqa: F401 (the names callers use)

#: Layers each model offers for dreaming, shallow to deep (views of ``models.catalog.NETWORKS``).
MODEL_LAYERS: Mapping[str, tuple[str, ...]] = {key: n.layers for key, n in NETWORKS.items()}
#: How many channels (feature detectors) each of those layers has.
MODEL_CHANNELS: Mapping[str, Mapping[str, int]] = {
    key: n.channels_of for key, n in NETWORKS.items()
}
#: Human names for the model picker and for result metadata.
MODEL_TITLES: Mapping[str, str] = {key: n.title for key, n in NETWORKS.items()}
#: Where a guide is matched unless ``guide_layer`` says otherwise (see ``models/catalog.py``).
GUIDE_LAYERS: Mapping[str, str] = {key: n.guide_layer for key, n in NETWORKS.items()}
_TRANSLATION = {
    (key, other): table for key, n in NETWORKS.items() for other, table in n.depth_to.items()
}

LayerWeights = tuple[tuple[str, float], ...]
#: The least and the most a max working side may be.
MAX_SIDE_RANGE = (64, 8192)
#: The most a look's working side is scaled by when it moves to another network.
MAX_SIDE_FACTOR = 2.0
ChannelWeights = tuple[tuple[str, int, float], ...]

#: How the gradient is normalised before each step: by its standard deviation, or band by
#: band over a Laplacian pyramid ("lapnorm": smoother, larger-scale patterns).
NORMALIZATIONS = ("std", "laplacian")
#: What a dream starts from: the photo, or low-amplitude noise (feature visualisation).
STARTS = ("photo", "noise")
#: How a dream from noise holds its picture, the default first: a scaled, colour-decorrelated
#: Fourier spectrum (lucid's feature visualisation, ``param.py``) or raw pixels (the classic
#: octave loop). Here, not in ``param.py``, so that settings never import TensorFlow.
PARAMS = ("fft", "pixel")
#: The random transforms a Fourier dream from noise sees at each step (``transform.py``).
TRANSFORMS = ("standard", "none")


def _as_layer_weights(layers: Mapping[str, float] | LayerWeights) -> LayerWeights:
    items = layers.items() if isinstance(layers, Mapping) else layers
    return tuple((str(name), float(weight)) for name, weight in items)


@dataclass(frozen=True)
class DreamConfig:
    """All settings of one dream. Frozen and hashable; build variants with ``replace``.

    Attributes:
        model: ``"inception_v3"`` or ``"vgg16_offline"``.
        layers: layer name -> weight in the objective (a mapping or pairs; stored as pairs).
            A negative weight pushes that layer's activations down while the others rise.
        channels: single channels to amplify, as ``(layer, channel, weight)`` triples; their
            mean activations are added to the objective. A negative weight (e.g. -1) pushes
            that channel down instead: "fewer dogs" when it is a dog-face detector. ``layers``
            may be empty when channels are given (then only the channels are dreamed).
        guide: a ``Guide`` image, or None. With a guide, the objective rewards each position of
            the dream's features at ``guide_layer`` for matching its best-matching feature
            vector of the guide ("dream like this picture").
        guide_strength: 0..1, how much of the objective is the guide's (the rest is the plain
            objective of the layers and channels).
        guide_layer: the layer the guide is matched at; ``""`` means the network's default
            (``GUIDE_LAYERS``: mixed2 / block3_conv3).
        mask: a ``Mask`` (where the dream goes: white dreams, black keeps the photo, grey in
            part), or None to dream everywhere. Fitted to each photo's size.
        normalize: ``"std"`` or ``"laplacian"`` (see ``NORMALIZATIONS``).
        start: ``"photo"``, or ``"noise"`` when the input is a noise canvas (``noise_canvas``);
            recorded in the result's metadata.
        steps_per_octave: gradient-ascent steps at each scale.
        step_size: how far each normalised step moves the pixels (image range is [-1, 1]).
        octaves: number of scales, small to full size.
        octave_scale: size ratio between neighbouring octaves (> 1).
        tile_size: gradients are computed in square tiles of this side (bounds memory).
        max_side: the dream is computed with the longer side at most this many pixels; the
            result is brought back to the input's size.
        seed: seeds the random roll, so the same seed gives the same dream.
        keep_colors: keep the photo's colours, take only the brightness from the dream.
        preview_every: a preview image is attached to every n-th progress update.
        param: for a dream from noise, ``"fft"`` (the default: a Fourier, colour-decorrelated
            picture grown by Adam for ``total_steps`` steps at the working size, lucid's
            feature visualisation) or ``"pixel"`` (the octave loop on the noise canvas, as
            a photo is dreamed). Photo dreams ignore it.
        transforms: for a Fourier dream from noise, ``"standard"`` (jitter, scale and rotate
            at every step: transformation robustness) or ``"none"``.
    """

    model: str = INCEPTION_V3
    layers: LayerWeights = (("mixed3", 1.0), ("mixed5", 1.0))
    channels: ChannelWeights = ()
    guide: Guide | None = None
    guide_strength: float = 0.8
    guide_layer: str = ""
    mask: Mask | None = None
    normalize: str = "std"
    start: str = "photo"
    steps_per_octave: int = 10
    step_size: float = 0.02
    octaves: int = 3
    octave_scale: float = 1.4
    tile_size: int = 512
    max_side: int = 1024
    seed: int = 0
    keep_colors: bool = False
    preview_every: int = 5
    param: str = "fft"
    transforms: str = "standard"
    notes: str = field(default="", compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "layers", _as_layer_weights(self.layers))
        object.__setattr__(self, "channels", _as_channel_weights(self.channels))
        self._validate()

    def _validate(self) -> None:
        if self.model not in MODEL_LAYERS:
            raise ValueError(
                f"Unknown model {self.model!r}; choose one of: {', '.join(MODEL_LAYERS)}."
            )
        known = MODEL_LAYERS[self.model]
        if not self.layers and not self.channels:
            raise ValueError("Choose at least one layer (or channel) to dream with.")
        names = [name for name, _ in self.layers]
        if len(set(names)) != len(names):
            raise ValueError("Each layer may be chosen only once.")
        for name, weight in self.layers:
            if name not in known:
                raise ValueError(
                    f"Layer {name!r} is not a layer of {self.model}; "
                    f"choose from: {', '.join(known)}."
                )
            if not _usable_weight(weight):
                raise ValueError(
                    f"The weight of layer {name!r} must be a number other than 0 (a negative "
                    "one pushes that layer down while the others dream)."
                )
        self._validate_channels(known)
        if self.guide is not None and not isinstance(self.guide, Guide):
            raise ValueError("The guide must be a Guide image (Guide.from_image(pixels)).")
        _check_float("guide_strength", self.guide_strength, 0.0, 1.0)
        if self.guide_layer and self.guide_layer not in known:
            raise ValueError(
                f"The guide layer {self.guide_layer!r} is not a layer of {self.model}; "
                f"choose from: {', '.join(known)}."
            )
        if self.mask is not None and not isinstance(self.mask, Mask):
            raise ValueError("The mask must be a Mask (Mask.from_image(pixels)).")
        if self.normalize not in NORMALIZATIONS:
            raise ValueError(
                f"normalize must be one of {', '.join(NORMALIZATIONS)}; got {self.normalize!r}."
            )
        if self.start not in STARTS:
            raise ValueError(f"start must be one of {', '.join(STARTS)}; got {self.start!r}.")
        _check_int("steps_per_octave", self.steps_per_octave, 1, 500)
        _check_float("step_size", self.step_size, 0.0, 1.0, low_open=True)
        _check_int("octaves", self.octaves, 1, 10)
        _check_float("octave_scale", self.octave_scale, 1.0, 4.0, low_open=True)
        _check_int("tile_size", self.tile_size, 64, 4096)
        _check_int("max_side", self.max_side, *MAX_SIDE_RANGE)
        _check_int("seed", self.seed, 0, 2**31 - 1)
        _check_int("preview_every", self.preview_every, 1, 10_000)
        if not isinstance(self.keep_colors, bool):
            raise ValueError("keep_colors must be true or false.")
        self._validate_picture()

    def _validate_picture(self) -> None:
        if self.param not in PARAMS:
            raise ValueError(f"param must be one of {', '.join(PARAMS)}; got {self.param!r}.")
        if self.transforms not in TRANSFORMS:
            raise ValueError(
                f"transforms must be one of {', '.join(TRANSFORMS)}; got {self.transforms!r}."
            )

    def _validate_channels(self, known: tuple[str, ...]) -> None:
        seen = set()
        for layer, channel, weight in self.channels:
            if layer not in known:
                raise ValueError(
                    f"Channel layer {layer!r} is not a layer of {self.model}; "
                    f"choose from: {', '.join(known)}."
                )
            if channel < 0:
                raise ValueError(f"Channel numbers must be 0 or more; got {layer}:{channel}.")
            count = MODEL_CHANNELS[self.model][layer]
            if channel >= count:
                raise ValueError(
                    f"Layer {layer} has {count} channels (0 to {count - 1}); "
                    f"channel {channel} does not exist."
                )
            if not _usable_weight(weight):
                raise ValueError(
                    f"The weight of channel {layer}:{channel} must be a number other than 0 (a "
                    "negative one, e.g. -1, pushes that feature down: fewer dogs)."
                )
            if (layer, channel) in seen:
                raise ValueError(f"Channel {layer}:{channel} may be chosen only once.")
            seen.add((layer, channel))

    @property
    def dreamed_layers(self) -> tuple[str, ...]:
        """Every layer the objective reads (layers, channel layers, guide layer), shallow to
        deep."""
        names = {name for name, _ in self.layers} | {layer for layer, _, _ in self.channels}
        if self.guide is not None:
            names.add(self.matched_layer)
        known = MODEL_LAYERS[self.model]
        return tuple(sorted(names, key=known.index))

    @property
    def matched_layer(self) -> str | None:
        """The layer the guide is matched at (None without a guide)."""
        if self.guide is None:
            return None
        return self.guide_layer or GUIDE_LAYERS[self.model]

    @property
    def visualises(self) -> bool:
        """True when this dream is a feature visualisation: from noise, Fourier-held."""
        return self.start == "noise" and self.param == "fft"

    @property
    def total_steps(self) -> int:
        """Upper bound on gradient steps (octaves too small for the model are skipped)."""
        return self.steps_per_octave * self.octaves

    def replace(self, **changes: object) -> DreamConfig:
        """A copy with some fields changed (validated again)."""
        return dataclasses.replace(self, **changes)

    def with_model(self, model: str) -> DreamConfig:
        """This config for another model, layer names translated by depth.

        Layers that map onto the same layer of the other model have their weights added. The
        max working side follows the deepest layer's stride (``moved_max_side``), so the
        patterns keep their size on the photo: InceptionV3's classic at 1024 is VGG16's at 512.

        Raises:
            ValueError: when single channels are chosen: a channel number means a different
                feature in another network, so it cannot be translated.
        """
        if model == self.model:
            return self
        if (self.model, model) not in _TRANSLATION:
            raise ValueError(f"Unknown model {model!r}; choose one of: {', '.join(MODEL_LAYERS)}.")
        if self.channels:
            raise ValueError(
                f"The chosen channels belong to {MODEL_TITLES[self.model]}; a channel number "
                f"means another feature in {MODEL_TITLES[model]}. Choose channels of that model "
                "instead, or dream whole layers."
            )
        table = _TRANSLATION[(self.model, model)]
        merged: dict[str, float] = {}
        for name, weight in self.layers:
            target = table[name]
            merged[target] = merged.get(target, 0.0) + weight
        guide_layer = table[self.guide_layer] if self.guide_layer else ""
        layers = tuple(merged.items())
        max_side = moved_max_side(self.max_side, (self.model, self.layers), (model, layers))
        return self.replace(model=model, layers=layers, guide_layer=guide_layer, max_side=max_side)

    def describe(self) -> dict[str, str]:
        """The settings as short strings, for PNG metadata and captions."""
        return {
            "model": self.model,
            "layers": ",".join(f"{n}:{w:g}" for n, w in self.layers),
            "channels": format_channels(self.channels) or "none",
            "steps_per_octave": str(self.steps_per_octave),
            "step_size": f"{self.step_size:g}",
            "octaves": str(self.octaves),
            "octave_scale": f"{self.octave_scale:g}",
            "tile_size": str(self.tile_size),
            "max_side": str(self.max_side),
            "seed": str(self.seed),
            "keep_colors": str(self.keep_colors).lower(),
            "normalize": self.normalize,
            "start": self.start,
            "guide": self.guide.digest if self.guide is not None else "none",
            "mask": self.mask.digest if self.mask is not None else "none",
            "param": self.param,
            "transforms": self.transforms,
            **self._guide_description(),
        }

    def _guide_description(self) -> dict[str, str]:
        if self.guide is None:
            return {}
        return {"guide_strength": f"{self.guide_strength:g}", "guide_layer": self.matched_layer}


def moved_max_side(
    max_side: int, source: tuple[str, LayerWeights], target: tuple[str, LayerWeights]
) -> int:
    """``max_side`` for a look moved from ``source`` to ``target``, each ``(model, layers)``.

    Scaled by the ratio of the two deepest layers' strides (``models.catalog``), so a pattern
    one cell wide comes out as many photo pixels wide on either network: by at most
    ``MAX_SIDE_FACTOR`` either way, and kept within ``MAX_SIDE_RANGE``. Unchanged when either
    side has no layers (channels only).
    """
    (from_model, from_layers), (to_model, to_layers) = source, target
    if not from_layers or not to_layers:
        return max_side

    def deepest_stride(model: str, layers: LayerWeights) -> int:
        return max(NETWORKS[model].stride_of[name] for name, _ in layers)

    ratio = deepest_stride(to_model, to_layers) / deepest_stride(from_model, from_layers)
    # VGG16's first two blocks have no InceptionV3 layer as shallow (they map to mixed0), so
    # their strides say nothing of pattern size: the side moves by one octave of scale at most.
    ratio = min(max(ratio, 1 / MAX_SIDE_FACTOR), MAX_SIDE_FACTOR)
    least, most = MAX_SIDE_RANGE
    return min(max(round(max_side * ratio), least), most)


def _usable_weight(weight: float) -> bool:
    """Finite and not 0: negative weights push a layer or a channel down ("fewer dogs")."""
    return weight != 0 and abs(weight) < float("inf")  # NaN fails the second test


def _as_channel_weights(channels: object) -> ChannelWeights:
    try:
        return tuple(
            (str(layer), int(channel), float(weight)) for layer, channel, weight in channels
        )
    except (TypeError, ValueError):
        raise ValueError(
            "Channels must be (layer, channel, weight) triples, e.g. ('mixed4', 97, 1.0)."
        ) from None


def format_channels(channels: ChannelWeights) -> str:
    """Channels as ``LAYER:C:W`` items joined by commas (what ``parse_channels`` reads)."""
    return ",".join(f"{layer}:{channel}:{weight:g}" for layer, channel, weight in channels)


def parse_channels(text: str) -> ChannelWeights:
    """Parse ``"mixed4:97,mixed4:12:0.5"`` (``LAYER:C[:W]``, weight default 1) into channels.

    Raises:
        ValueError: when an item is not ``LAYER:CHANNEL`` or ``LAYER:CHANNEL:WEIGHT``.
    """
    triples = []
    for part in (p.strip() for p in text.split(",")):
        if not part:
            continue
        pieces = [piece.strip() for piece in part.split(":")]
        try:
            if len(pieces) not in (2, 3):
                raise ValueError
            weight = float(pieces[2]) if len(pieces) == 3 else 1.0
            triples.append((pieces[0], int(pieces[1]), weight))
        except ValueError:
            raise ValueError(
                f"Could not read the channel {part!r}; write it as LAYER:CHANNEL or "
                "LAYER:CHANNEL:WEIGHT, e.g. mixed4:97 or mixed4:97:0.5."
            ) from None
    if not triples:
        raise ValueError("Give at least one channel, for example mixed4:97,mixed4:12:0.5.")
    return tuple(triples)


def parse_layers(text: str) -> LayerWeights:
    """Parse ``"mixed3:1,mixed5:1.5"`` (weight optional, default 1) into layer weights.

    Raises:
        ValueError: when the text is not a comma-separated list of ``name[:weight]``.
    """
    pairs = []
    for part in (p.strip() for p in text.split(",")):
        if not part:
            continue
        name, _, weight = part.partition(":")
        try:
            pairs.append((name.strip(), float(weight) if weight.strip() else 1.0))
        except ValueError:
            raise ValueError(
                f"Could not read the layer weight in {part!r}; write it like mixed3:1.5."
            ) from None
    if not pairs:
        raise ValueError("Give at least one layer, for example mixed3:1,mixed5:1.5.")
    return tuple(pairs)


#: Named looks. Each is for InceptionV3; ``with_model`` moves one to the offline model.
PRESETS: Mapping[str, DreamConfig] = {
    "gentle": DreamConfig(
        layers=(("mixed2", 1.0), ("mixed3", 0.5)),
        steps_per_octave=8,
        step_size=0.015,
        octaves=2,
        notes="Light texture from shallow layers: swirls and fine patterns, the photo stays clear.",
    ),
    # Tuned on InceptionV3's ImageNet layers (the nsfwjs import; bench/looks.py): mixed4 and a
    # heavier mixed5 with a smaller step and a fourth octave give larger eyes and arches with
    # less speckle, and fewer burnt-out pixels, than mixed3 + mixed5 at 0.02 over 3 octaves.
    # Half the steps, each larger, give the same look for half the work (issue 22; looks.py
    # --cheaper: the same pattern strength on four photos, the pattern where 10 x 0.015 put
    # it as closely as a second seed of that does; assets/speed/cheaper-classic.jpg).
    "classic": DreamConfig(
        layers=(("mixed3", 0.5), ("mixed4", 1.0), ("mixed5", 1.5)),
        steps_per_octave=5,
        step_size=0.024,
        octaves=4,
        notes="The classic DeepDream look: eyes, arches and fur-like patterns everywhere.",
    ),
    # Tuned on Google's whole ImageNet InceptionV3 (issue 27; four photos at 512 px, figures
    # in bench/results/deep-preset.txt): mixed6-mixed8 climbed with std-normalised gradients
    # (15 steps x 0.025) filled the photo with colour grain (a third of the added detail's
    # energy above half the Nyquist frequency) and few shapes; Laplacian-normalised, 10 steps
    # x 0.025, the grain falls to an eighth, heads and animal parts show, for 2/3 the work.
    "deep": DreamConfig(
        layers=(("mixed6", 1.0), ("mixed7", 1.5), ("mixed8", 1.0)),
        steps_per_octave=10,
        step_size=0.025,
        octaves=4,
        normalize="laplacian",
        notes="Deep layers: whole creatures and animal parts emerge; the strongest change.",
    ),
}

DEFAULT_PRESET = "classic"
