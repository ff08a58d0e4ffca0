"""Inference form of a backbone: batch norms folded into convolutions, weights in the compute
dtype, so a dream step does the least arithmetic and casts nothing.

Contract:
- ``conv_bn_pairs(model)`` lists the ``(Conv2D, BatchNormalization)`` pairs of a functional
  Keras model that can be folded: the batch norm normalises the last axis and takes its input
  from a convolution with no activation whose output goes nowhere else.
- ``folded_conv_weights(conv, bn)`` is the ``(kernel, bias)`` of the one convolution that
  computes ``bn(conv(x))`` in inference mode: ``kernel * s`` and ``(bias - mean) * s + beta``
  with ``s = gamma / sqrt(moving_variance + epsilon)`` (``gamma`` = 1 when the batch norm has
  ``scale=False``, ``beta`` = 0 when ``center=False``; the convolution's bias is 0 when it has
  none). Computed in float64, returned as float32.
- ``inference_model(model, compute_dtype=None)`` returns an equivalent functional model
  (``keras.models.clone_model``) in which each such pair is one ``Conv2D`` with a bias, named
  like the convolution, and the batch norm an ``Identity`` named like the batch norm; every
  other layer is a copy with the same name and weights, so ``get_layer("mixed3")`` and the
  layer order are unchanged. With ``compute_dtype`` (``"float32"`` or ``"bfloat16"``) every
  layer is built under that plain Keras dtype policy: its weights are *stored* in that dtype
  (not cast on every call, as Keras's ``mixed_bfloat16`` does). The input stays as it was
  (float32); outputs are in ``compute_dtype``. When there is nothing to fold and no dtype to
  change, ``model`` itself is returned.
  The result is for inference only (``training=False``): the batch norms' moving statistics
  are baked in and no longer exist as weights. The original model is not modified.

Weights held as graph constants (so oneDNN could keep its re-laid-out filters) were measured
and left out: on a full InceptionV3 every traced step then held about 685 MB more memory (the
weights copied into each graph several times) for no measurable speed on this CPU; see
``bench/results/folding.txt`` and docs/speed.md.
"""

from __future__ import annotations

import numpy as np

#: Keras dtype policies the inference model may be built in.
COMPUTE_DTYPES = ("float32", "bfloat16")


def _producer(tensor):
    """The layer that produced a symbolic Keras tensor."""
    return tensor._keras_history.operation


def conv_bn_pairs(model) -> list[tuple[object, object]]:
    """The foldable ``(Conv2D, BatchNormalization)`` pairs of ``model``, in layer order."""
    import keras

    pairs = []
    for layer in model.layers:
        if not isinstance(layer, keras.layers.BatchNormalization):
            continue
        if len(layer._inbound_nodes) != 1:  # a shared batch norm: leave it alone
            continue
        inputs = layer._inbound_nodes[0].input_tensors
        if len(inputs) != 1:
            continue
        conv = _producer(inputs[0])
        axis = layer.axis if isinstance(layer.axis, int) else None
        rank = len(inputs[0].shape)
        if (
            isinstance(conv, keras.layers.Conv2D)
            and type(conv) is keras.layers.Conv2D  # not a subclass (depthwise, transposed)
            and conv.activation in (keras.activations.linear, None)
            and len(conv._inbound_nodes) == 1
            and len(conv._outbound_nodes) == 1
            and axis is not None
            and axis % rank == rank - 1
            and conv.data_format == "channels_last"
        ):
            pairs.append((conv, layer))
    return pairs


def folded_conv_weights(conv, bn) -> tuple[np.ndarray, np.ndarray]:
    """``(kernel, bias)`` of the convolution equal to ``bn(conv(x))`` in inference mode."""

    def values(variable) -> np.ndarray:
        return np.asarray(variable.numpy(), np.float64)

    config = bn.get_config()
    mean, variance = values(bn.moving_mean), values(bn.moving_variance)
    gamma = values(bn.gamma) if config["scale"] else np.ones_like(variance)
    beta = values(bn.beta) if config["center"] else np.zeros_like(variance)
    scale = gamma / np.sqrt(variance + float(config["epsilon"]))
    conv_weights = conv.get_weights()
    kernel = np.asarray(conv_weights[0], np.float64)
    bias = np.asarray(conv_weights[1], np.float64) if conv.use_bias else np.zeros_like(mean)
    # The kernel's last axis is the output channel: scaling it scales each output channel.
    return (kernel * scale).astype(np.float32), ((bias - mean) * scale + beta).astype(np.float32)


def inference_model(model, compute_dtype: str | None = None):
    """``model`` with its batch norms folded and its weights in ``compute_dtype``; see the
    module docstring.

    Raises:
        ValueError: an unknown ``compute_dtype``, or ``model`` is not a functional model.
    """
    import keras

    if compute_dtype is not None and compute_dtype not in COMPUTE_DTYPES:
        raise ValueError(f"compute_dtype must be one of {COMPUTE_DTYPES}, not {compute_dtype!r}")
    pairs = conv_bn_pairs(model)
    policy_changes = compute_dtype is not None and any(
        layer.dtype_policy.name != compute_dtype
        for layer in model.layers
        if not isinstance(layer, keras.layers.InputLayer)
    )
    if not pairs and not policy_changes:
        return model
    folded_convs = {id(conv): bn for conv, bn in pairs}
    folded_bns = {id(bn) for _, bn in pairs}

    def clone(layer):
        config = layer.get_config()
        if compute_dtype is not None:
            config["dtype"] = keras.DTypePolicy(compute_dtype)
        if id(layer) in folded_bns:
            return keras.layers.Identity(name=layer.name, dtype=config.get("dtype"))
        if id(layer) in folded_convs:
            config["use_bias"] = True
            config["bias_initializer"] = "zeros"
        return layer.__class__.from_config(config)

    def call(layer, *args, **kwargs):
        if isinstance(layer, keras.layers.Identity):
            return layer(args[0])  # a batch norm's call arguments (mask=...) do not apply
        return layer(*args, **kwargs)

    # The input layers keep their names too (clone_model would name them after the tensors).
    inputs = keras.tree.map_structure(
        lambda x: keras.Input(batch_shape=x.shape, dtype=x.dtype, name=_producer(x).name),
        model.input,
    )
    folded = keras.models.clone_model(
        model, input_tensors=inputs, clone_function=clone, call_function=call
    )
    for original in model.layers:
        if id(original) in folded_bns or not original.weights:
            continue
        target = folded.get_layer(original.name)
        if id(original) in folded_convs:
            values = folded_conv_weights(original, folded_convs[id(original)])
        else:
            values = original.get_weights()
        # set_weights casts to each variable's dtype (bfloat16 rounds once, here).
        target.set_weights([np.asarray(v, np.float32) for v in values])
    return folded
