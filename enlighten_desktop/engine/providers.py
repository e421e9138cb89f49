"""Execution providers: what this ONNX Runtime offers, what the caller asked for, what really runs.

ONNX Runtime silently drops a provider it cannot initialise, so the engine never trusts the request: it
builds the session, reads ``session.get_providers()`` and reports the first one as the provider that runs.
A GPU provider that fails at load (missing DLLs, no device) or at run (out of memory, driver timeout) is
replaced by a CPU session; the reason is recorded once in :class:`ProviderReport` and logged as a warning.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, replace
from pathlib import Path

import onnxruntime as ort

from enlighten_desktop.engine.errors import ModelError, ProviderError

log = logging.getLogger(__name__)

CPU = "CPUExecutionProvider"
# Aliases the CLI and UI accept, and the ONNX Runtime provider each stands for ("auto" picks the best).
ALIAS_TO_PROVIDER = {
    "cpu": CPU,
    "cuda": "CUDAExecutionProvider",
    "dml": "DmlExecutionProvider",
    "coreml": "CoreMLExecutionProvider",
}
PROVIDER_ALIASES = frozenset({"auto", *ALIAS_TO_PROVIDER})
# Preference for "auto": DirectML serves every Windows GPU vendor, CUDA NVIDIA on Linux, CoreML Apple.
AUTO_ORDER = ("DmlExecutionProvider", "CUDAExecutionProvider", "CoreMLExecutionProvider")
_DEVICE_ID_PROVIDERS = frozenset({"DmlExecutionProvider", "CUDAExecutionProvider"})


@dataclass(frozen=True)
class ProviderReport:
    """What was asked for and what really runs.

    ``active`` is ``session.get_providers()[0]`` of the session in use; ``fallback_reason`` says, in words a
    user can read, why it is not the requested provider (None when nothing fell back).
    """

    requested: str
    active: str
    fallback_reason: str | None = None

    @property
    def fell_back(self) -> bool:
        return self.fallback_reason is not None


@dataclass(frozen=True)
class SessionSettings:
    """How sessions are built. ``intra_op_threads`` 0 lets ONNX Runtime choose (one per core).

    ``memory_arena`` reuses the blocks of one run in the next, where without it every activation is
    allocated afresh (page faults on each run); with it, ONNX Runtime's memory pattern (a planned block per
    input shape) is turned off, since it only added memory beside the arena. None (the default) decides by
    the model's precision (:meth:`for_precision`). Measured on 2 cores, one process per setting
    (``scripts/window_memory.py --sides 1536 --photos 24``: one 1536 px window, and 24 real photos of 0.3 to
    8 MP from bench_table's set through the engine, each a new input shape for the session):

    | model | arena | bytes per window pixel | ms/MP | 24 photos |
    |---|---|---|---|---|
    | fp32 | off | 388 | 947 | 38.0 s |
    | fp32 | on | 577 | 830 | 24.1 s |
    | int8 | off | 244 | 632 | 20.2 s |
    | int8 | on | 177 | 429 | 15.4 s |

    int8 gains on every count, so it runs with the arena. fp32 runs without: its gain is large only for
    photos smaller than one window; on camera-sized photos the arena's memory means smaller tiles under the
    same budget, and with it bench_table measured tiles 1.28x the whole image's time (1.05x without), a
    batch 1.33x the model's time (1.19x) and 3.04 GiB at 96 MP (2.63).
    """

    intra_op_threads: int = 0
    memory_arena: bool | None = None

    def for_precision(self, precision: str) -> SessionSettings:
        """These settings with the arena decided for a model of ``precision`` ("fp32" or "int8")."""
        if self.memory_arena is not None:
            return self
        return replace(self, memory_arena=precision == "int8")


DEFAULT_SETTINGS = SessionSettings()
# An ONNX Runtime provider as a session takes it: its name, or (name, its options) for one given a device.
Provider = str | tuple[str, dict[str, str]]


def available_providers() -> list[str]:
    """The ONNX Runtime provider names this install offers, in ONNX Runtime's own order."""
    return list(ort.get_available_providers())


def _check_request(request: str) -> None:
    if request not in PROVIDER_ALIASES:
        raise ProviderError(
            f"Unknown device '{request}'. Choose one of: {', '.join(sorted(PROVIDER_ALIASES))}."
        )


def unavailable_notice(request: str) -> str | None:
    """A user-readable notice when an explicitly requested provider is not in this install, else None."""
    _check_request(request)
    if request in ("auto", "cpu"):
        return None
    wanted = ALIAS_TO_PROVIDER[request]
    offered = available_providers()
    if wanted in offered:
        return None
    return (
        f"{wanted} ('{request}') is not available in this ONNX Runtime install "
        f"(it offers: {', '.join(offered)}); running on the CPU instead."
    )


def providers_for(request: str = "auto", device: int = 0) -> list[Provider]:
    """The ordered provider list to build a session with; it always ends with the CPU provider.

    Providers that take a device index (DirectML, CUDA) are given as ``(name, {"device_id": device})``.
    A requested provider this install lacks is left out (see :func:`unavailable_notice`).
    """
    _check_request(request)
    offered = set(available_providers())
    if request == "auto":
        wanted = [name for name in AUTO_ORDER if name in offered]
    elif request == "cpu":
        wanted = []
    else:
        wanted = [ALIAS_TO_PROVIDER[request]] if ALIAS_TO_PROVIDER[request] in offered else []
    chosen: list[Provider] = [
        (name, {"device_id": str(device)}) if name in _DEVICE_ID_PROVIDERS else name for name in wanted
    ]
    return [*chosen, CPU]


def _session_options(providers: list[Provider], settings: SessionSettings) -> ort.SessionOptions:
    options = ort.SessionOptions()
    options.intra_op_num_threads = settings.intra_op_threads
    options.enable_cpu_mem_arena = bool(settings.memory_arena)
    options.enable_mem_pattern = not settings.memory_arena
    names = [p[0] if isinstance(p, tuple) else p for p in providers]
    if "DmlExecutionProvider" in names:
        # DirectML does not support memory patterns or parallel execution (ONNX Runtime DML docs).
        options.enable_mem_pattern = False
        options.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
    return options


def _open(path: Path, providers: list[Provider], settings: SessionSettings) -> ort.InferenceSession:
    return ort.InferenceSession(
        str(path), sess_options=_session_options(providers, settings), providers=providers
    )


def cpu_session(path: Path, settings: SessionSettings) -> ort.InferenceSession:
    """A CPU-only session for ``path``; a file ONNX Runtime cannot load raises ModelError naming it."""
    try:
        return _open(path, [CPU], settings)
    except Exception as exc:  # ONNX Runtime's pybind errors share no base class below Exception.
        raise ModelError(
            f"The model file {path} could not be loaded ({exc}). It may be damaged or not an ONNX model: "
            "reinstall the application or choose another model file."
        ) from exc


def create_session(
    path: Path, *, request: str = "auto", device: int = 0, settings: SessionSettings = DEFAULT_SETTINGS
) -> tuple[ort.InferenceSession, ProviderReport]:
    """Build the session for ``path`` on the requested provider, falling back to the CPU when needed.

    Returns the session and the report of what really runs. Raises ModelError when even the CPU cannot
    load the file, ProviderError for an unknown request.
    """
    reason = unavailable_notice(request)
    providers = providers_for(request, device)
    if providers != [CPU]:
        try:
            session = _open(path, providers, settings)
        except Exception as exc:  # a GPU provider that cannot start: retry on the CPU below
            reason = f"The GPU could not be used ({exc}); running on the CPU instead."
        else:
            active = session.get_providers()[0]
            wanted = providers[0][0] if isinstance(providers[0], tuple) else providers[0]
            if active != wanted:
                reason = f"{wanted} did not start (ONNX Runtime chose {active}); running on the CPU."
            report = ProviderReport(requested=request, active=active, fallback_reason=reason)
            _warn(report)
            return session, report
    session = cpu_session(path, settings)
    report = ProviderReport(requested=request, active=session.get_providers()[0], fallback_reason=reason)
    _warn(report)
    return session, report


def fall_back_report(report: ProviderReport, error: Exception) -> ProviderReport:
    """The report after a run-time failure of ``report.active`` made the engine switch to the CPU."""
    reason = (
        f"{report.active} failed while enhancing ({error}); switched to the CPU and carried on "
        "(slower, same result)."
    )
    new = replace(report, active=CPU, fallback_reason=reason)
    _warn(new)
    return new


def _warn(report: ProviderReport) -> None:
    if report.fallback_reason:
        log.warning("%s", report.fallback_reason)
