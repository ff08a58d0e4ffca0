"""The dream settings in the sidebar, shared by every page.

Contract: ``settings_ui()`` draws the sidebar's settings, one small function per section
(preset, network, layers, control: guide, channels, channel explorer and normalisation (see
``control.py`` and ``explore.py``), strength, scales, variation, advanced), and returns
``(config, None)``, or ``(None, message)`` when the settings clash (e.g. no layer chosen).
Every widget has a ``key`` and a ``help`` that says what it does to the picture. A preset
sets the knobs in one click; switching networks translates the layers by depth. The sidebar
starts on the network that will really be used, so it never claims InceptionV3 while the
offline model stands in.
"""

from __future__ import annotations

import streamlit as st

from deepdream import DEFAULT_PRESET, MODEL_LAYERS, PRESETS, DreamConfig
from deepdream.config import INCEPTION_V3, MODEL_TITLES, VGG16_OFFLINE, moved_max_side
from deepdream.models.catalog import NETWORKS

from .backend import offered_layers, served_inception
from .control import CONTROL_KEYS, channel_item, channels_ui, guide_ui, init_control, normalize_ui
from .explore import explorer_ui
from .recipes import link_ui, restore_ui

MAX_SIDES = [256, 384, 512, 768, 1024, 1536, 2048]
TILE_SIZES = [256, 384, 512, 768, 1024]
WEIGHT_MIN, WEIGHT_MAX = 0.1, 3.0  # the layer-weight sliders' range


def _set_layer_widgets(layers: tuple[tuple[str, float], ...]) -> None:
    st.session_state.layers = [name for name, _ in layers]
    for name, weight in layers:
        # Layers merged by a network switch add their weights; keep them on the slider.
        st.session_state[f"weight_{name}"] = min(max(float(weight), WEIGHT_MIN), WEIGHT_MAX)


def _apply_config_to_widgets(config: DreamConfig) -> None:
    state = st.session_state
    state.model = config.model
    _set_layer_widgets(config.layers)
    state.steps = config.steps_per_octave
    state.step_size = config.step_size
    state.octaves = config.octaves
    state.octave_scale = config.octave_scale


def _on_preset_change() -> None:
    state = st.session_state
    preset = PRESETS[state.preset].with_model(state.model)
    offered = offered_layers(state.model)
    if unoffered := [name for name, _ in preset.layers if name not in offered]:
        # nsfwjs's InceptionV3 has ImageNet features only up to mixed5: say so, keep the look
        # the user had, rather than dream with layers that were retrained for another task.
        state.preset_refused = (
            f"The {state.preset.capitalize()} preset dreams with {', '.join(unoffered)}, which "
            f"this server's InceptionV3 does not have: its ImageNet layers are "
            f"{offered[0]}-{offered[-1]} (8-bit, from nsfwjs 4.4.0). Google's whole ImageNet "
            "InceptionV3 brings the deeper layers (see the notice at the top of the page)."
        )
        state.preset = state.get("last_preset", DEFAULT_PRESET)
        return
    state.preset_refused = None
    state.last_preset = state.preset
    _apply_config_to_widgets(preset)
    # A preset is a whole look in one click: chosen channels would hide it, and its own
    # gradient normalisation is part of it (Deep's is Laplacian). The guide stays: it is a
    # picture the user brought, not a setting.
    st.session_state.channels_text = ""
    st.session_state.normalize = preset.normalize


def _on_model_change() -> None:
    # Keep the same look on the other network: layers are translated by depth, from the
    # network the sidebar showed before (remembered each run: there may be more than two).
    previous, model = (
        st.session_state.get("shown_model", st.session_state.model),
        st.session_state.model,
    )
    chosen = tuple(
        (name, st.session_state.get(f"weight_{name}", 1.0)) for name in st.session_state.layers
    )
    layers = chosen or PRESETS[DEFAULT_PRESET].with_model(previous).layers
    translated = DreamConfig(model=previous, layers=layers).with_model(model).layers
    moved = _within(translated, offered_layers(model))
    _set_layer_widgets(moved)
    if chosen:  # the working side follows the layers' stride: the patterns keep their size
        side = st.session_state.get("max_side", DreamConfig.max_side)
        moved_side = moved_max_side(side, (previous, chosen), (model, moved))
        st.session_state.max_side = _nearest(moved_side, MAX_SIDES)


def _within(layers, offered: tuple[str, ...]) -> tuple[tuple[str, float], ...]:
    """``layers`` with any layer the served weights lack moved to the deepest one they have
    (the depth translation's nearest honest match), weights of merged layers added."""
    merged: dict[str, float] = {}
    for name, weight in layers:
        target = name if name in offered else offered[-1]
        merged[target] = merged.get(target, 0.0) + weight
    return tuple(merged.items())


def restore_settings(config: DreamConfig, precision: str | None = None) -> list[str]:
    """Write every setting of ``config`` (and the recorded ``precision``) into the widgets;
    returns a plain sentence for each thing that could not be restored as it was."""
    state = st.session_state
    problems: list[str] = []
    served, _ = served_inception()
    if config.model == INCEPTION_V3 and served == VGG16_OFFLINE:
        problems.append(
            "This dream was made with InceptionV3, which this server does not have: its "
            "layers are translated by depth to the offline VGG16 (a similar look, other pixels)."
        )
        if config.channels:
            problems.append("Its channels belong to InceptionV3 and were left out.")
            config = config.replace(channels=(), layers=config.layers or (("mixed3", 1.0),))
        config = config.with_model(VGG16_OFFLINE)
    state.model = config.model
    offered = offered_layers(config.model)
    layers = config.layers
    if unoffered := [name for name, _ in layers if name not in offered]:
        problems.append(
            f"This server's network has no {', '.join(unoffered)} (its layers are "
            f"{offered[0]}-{offered[-1]}): the nearest layer it has dreams instead."
        )
        layers = _within(layers, offered)
    state.layers = [name for name, _ in layers]
    for name, weight in layers:
        state[f"weight_{name}"] = _fitted(
            problems, f"The weight of {name}", weight, WEIGHT_MIN, WEIGHT_MAX, 0.1
        )
    state.channels_text = ", ".join(channel_item(*item) for item in config.channels)
    state.channels_only = not config.layers
    state.steps = int(_fitted(problems, "Steps per octave", config.steps_per_octave, 1, 60, 1))
    state.step_size = _fitted(problems, "The step size", config.step_size, 0.001, 0.1, 0.001)
    state.octaves = int(_fitted(problems, "Octaves", config.octaves, 1, 6, 1))
    state.octave_scale = _fitted(problems, "The octave scale", config.octave_scale, 1.1, 2.0, 0.05)
    state.max_side = _chosen(problems, "The max working side", config.max_side, MAX_SIDES)
    state.tile_size = _chosen(problems, "The tile size", config.tile_size, TILE_SIZES)
    state.seed = config.seed
    state.keep_colors = config.keep_colors
    state.normalize = config.normalize
    state.guide_strength = _fitted(
        problems, "The guide strength", config.guide_strength, 0, 1, 0.05
    )
    state.start = config.start
    if precision in ("float32", "bfloat16"):
        state.precision = precision  # the same precision, or the pixels differ
    return problems


def _fitted(problems: list[str], what: str, value: float, low: float, high: float, step: float):
    """``value`` as the slider can hold it (within its range, on its steps); a sentence in
    ``problems`` when that changes it."""
    fitted = round(min(max(value, low), high) / step) * step
    fitted = round(fitted, 6)
    if abs(fitted - value) > 1e-9:
        problems.append(
            f"{what} was {value:g}; this page's slider holds {fitted:g} (the command line's "
            "--settings-from takes any value)."
        )
    return fitted


def _nearest(value: int, choices: list[int]) -> int:
    """The one of ``choices`` nearest ``value``."""
    return min(choices, key=lambda choice: abs(choice - value))


def _chosen(problems: list[str], what: str, value: int, choices: list[int]) -> int:
    """``value`` if it is one of ``choices``, else the nearest, said in ``problems``."""
    if value in choices:
        return value
    nearest = _nearest(value, choices)
    problems.append(
        f"{what} was {value}; this page offers {nearest} as the nearest (the command line's "
        "--settings-from takes any value)."
    )
    return nearest


SETTING_KEYS = (
    "preset",
    "model",
    "layers",
    "steps",
    "step_size",
    "octaves",
    "octave_scale",
    "max_side",
    "seed",
    "keep_colors",
    "tile_size",
    "precision",
    *CONTROL_KEYS,
    "explore_layer",
    "explore_first",
)


def _keep_across_pages() -> None:
    # Streamlit forgets a widget's value when a run does not draw it, which is what moving to
    # the other page does. Writing each value back as plain session state keeps the settings
    # the user chose when they switch pages.
    state = st.session_state
    for key in (*SETTING_KEYS, *(k for k in state if str(k).startswith("weight_"))):
        if key in state:
            state[key] = state[key]


def _init_settings() -> None:
    init_control()
    if "preset" in st.session_state:
        _keep_across_pages()
        return
    st.session_state.preset = DEFAULT_PRESET
    st.session_state.seed = 0
    st.session_state.keep_colors = False
    st.session_state.tile_size = 512
    st.session_state.precision = "auto"
    st.session_state.last_preset = DEFAULT_PRESET
    # Start on the network that will really be used: the offline model when it stands in
    # for missing ImageNet weights. When the user named a weights file that is broken, stay
    # on InceptionV3: the page says what is wrong, and nothing is swapped behind their back.
    served, _ = served_inception()
    start_on = VGG16_OFFLINE if served == VGG16_OFFLINE else INCEPTION_V3
    start = PRESETS[DEFAULT_PRESET].with_model(start_on)
    _apply_config_to_widgets(start)
    st.session_state.max_side = start.max_side  # VGG16 works at half the side (with_model)


def preset_ui() -> str:
    """The preset picker and its description; returns the preset's name."""
    st.sidebar.selectbox(
        "Preset",
        list(PRESETS),
        key="preset",
        on_change=_on_preset_change,
        format_func=str.capitalize,
        help="A starting point. Gentle: light swirls, the photo stays clear. Classic: the "
        "familiar eyes and arches. Deep: whole creatures; the strongest change.",
    )
    st.sidebar.caption(PRESETS[st.session_state.preset].notes)
    if st.session_state.get("preset_refused"):
        st.sidebar.warning(st.session_state.preset_refused)
    return st.session_state.preset


def _network_title(model: str) -> str:
    """The picker's name for ``model``, saying which layers the served weights really have."""
    offered = offered_layers(model)
    if offered != MODEL_LAYERS[model]:
        return f"InceptionV3 (ImageNet layers {offered[0]}-{offered[-1]}, from nsfwjs)"
    return MODEL_TITLES[model]


def network_ui() -> str:
    """Which network dreams; returns its model key."""
    st.session_state.shown_model = st.session_state.model  # what _on_model_change moves from
    st.sidebar.radio(
        "Network",
        list(NETWORKS),
        key="model",
        on_change=_on_model_change,
        format_func=_network_title,
        help="Which trained network dreams. InceptionV3 is the classic DeepDream network; "
        "the VGG16 offline model needs no download and paints edgier, dotted patterns.",
    )
    return st.session_state.model


def layers_ui(model: str) -> tuple[tuple[str, float], ...]:
    """The layers to amplify, each with its weight slider; returns (name, weight) pairs."""
    offered = offered_layers(model)
    if any(name not in offered for name in st.session_state.layers):
        _set_layer_widgets(_within(_chosen_layers(), offered))
    st.sidebar.multiselect(
        "Layers",
        offered,
        key="layers",
        help="What the dream amplifies. Layers are listed shallow to deep: shallow ones "
        "add strokes and textures, deep ones add eyes, faces and animals.",
    )
    for name in st.session_state.layers:
        st.session_state.setdefault(f"weight_{name}", 1.0)
        st.sidebar.slider(
            f"Weight of {name}",
            WEIGHT_MIN,
            WEIGHT_MAX,
            step=0.1,
            key=f"weight_{name}",
            help="How strongly this layer counts: a heavier layer shows more of its patterns.",
        )
    if offered != MODEL_LAYERS[model]:
        st.sidebar.caption(
            f"Only {offered[0]}-{offered[-1]} are offered: the deeper layers of these weights "
            "were retrained for another task (nsfwjs), so they are not ImageNet's features."
        )
    return _chosen_layers()


def _chosen_layers() -> tuple[tuple[str, float], ...]:
    state = st.session_state
    return tuple((name, float(state.get(f"weight_{name}", 1.0))) for name in state.layers)


def strength_ui() -> tuple[int, float]:
    """Steps per octave and step size."""
    steps = st.sidebar.slider(
        "Steps per octave",
        1,
        60,
        key="steps",
        help="How many times the picture is pushed at each scale: more steps, stronger dream. "
        "The time grows with the steps (twice the steps, twice the wait); fewer, larger steps "
        "give much the same look sooner (the classic preset: 5 steps of 0.024).",
    )
    step_size = st.sidebar.slider(
        "Step size",
        0.001,
        0.1,
        step=0.001,
        format="%.3f",
        key="step_size",
        help="How far each step moves the pixels: larger is bolder but can burn out colours. "
        "It costs no time.",
    )
    return int(steps), float(step_size)


def scales_ui() -> tuple[int, float, int]:
    """Octaves, octave scale and the max working side."""
    octaves = st.sidebar.slider(
        "Octaves",
        1,
        6,
        key="octaves",
        help="How many scales to dream at, small to full size: more octaves give large "
        "patterns with fine ones on top. Each added octave is smaller than the last, so it "
        "costs little time (four at 1.4 take about twice the full-size octave alone).",
    )
    octave_scale = st.sidebar.slider(
        "Octave scale",
        1.1,
        2.0,
        step=0.05,
        key="octave_scale",
        help="Size ratio between scales: larger ratios make the big patterns bigger.",
    )
    max_side = st.sidebar.select_slider(
        "Max working side (px)",
        MAX_SIDES,
        key="max_side",
        help="The dream is computed with its long side at most this many pixels, then laid "
        "onto your full-size photo. Larger is finer and slower: the time grows with the area "
        "(1024 px takes about 4x as long as 512 px). Switching networks scales it so the "
        "patterns keep their size: the offline VGG16's layers see patterns half the size of "
        "InceptionV3's at the same depth, so it works at half the side for every preset.",
    )
    return int(octaves), float(octave_scale), int(max_side)


def variation_ui() -> tuple[int, bool]:
    """Seed and keep-colours."""
    seed = st.sidebar.number_input(
        "Seed",
        0,
        2**31 - 1,
        step=1,
        key="seed",
        help="The same seed with the same settings gives exactly the same dream; change it "
        "for a variation.",
    )
    keep_colors = st.sidebar.checkbox(
        "Keep the photo's colours",
        key="keep_colors",
        help="Take only the brightness from the dream, so the colours stay those of the photo.",
    )
    return int(seed), bool(keep_colors)


def advanced_ui() -> int:
    """Tile size and compute precision (the precision is read by ``models``); returns the
    tile size."""
    with st.sidebar.expander("Advanced"):
        tile_size = st.select_slider(
            "Tile size (px)",
            TILE_SIZES,
            key="tile_size",
            help="Gradients are computed in tiles of this size: smaller tiles use less "
            "memory; the look stays the same kind.",
        )
        st.radio(
            "Compute precision",
            ["auto", "float32", "bfloat16"],
            key="precision",
            horizontal=True,
            help="bfloat16 is 1.3-2x faster where the hardware has it (a GPU, or a CPU with "
            "AVX512_BF16) and looks the same; auto picks it there, float32 elsewhere.",
        )
    return int(tile_size)


def settings_ui() -> tuple[DreamConfig | None, str | None]:
    """The sidebar's dream settings; see the module docstring."""
    _init_settings()
    restore_ui(restore_settings)  # before any setting is drawn: it may change them all
    st.sidebar.header("Settings")
    preset_ui()
    model = network_ui()
    layers = layers_ui(model)
    st.sidebar.subheader("Control")
    guide, guide_strength = guide_ui()
    try:
        channels, only_channels = channels_ui(model)
    except ValueError as error:
        channels, only_channels, channel_error = (), False, str(error)
    else:
        channel_error = None
    explorer_ui(model)
    normalize = normalize_ui()
    st.sidebar.subheader("Strength and scale")
    steps, step_size = strength_ui()
    octaves, octave_scale, max_side = scales_ui()
    seed, keep_colors = variation_ui()
    tile_size = advanced_ui()
    if channel_error:
        return None, channel_error
    try:
        config = DreamConfig(
            model=model,
            layers=() if only_channels else layers,
            channels=channels,
            guide=guide,
            guide_strength=guide_strength,
            normalize=normalize,
            steps_per_octave=steps,
            step_size=step_size,
            octaves=octaves,
            octave_scale=octave_scale,
            max_side=max_side,
            tile_size=tile_size,
            seed=seed,
            keep_colors=keep_colors,
        )
    except ValueError as error:
        return None, str(error)
    link_ui(config)
    return config, None
