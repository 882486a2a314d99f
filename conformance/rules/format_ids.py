"""What the format-specific findings of the parsers mean (``hv-balloon.*``, ``meminfo.*``,
``show-mem.*``, ``virtio-features.*``, ``vmmemctl.*`` ids that are not rules).

Plain entries ``(id, severity, title, explanation)`` that
:mod:`conformance.rules.explanations` gathers with the parser's and reader's own; each
explanation says what the kernel prints and why the finding matters, without pointing at
a document the reader may not have.
"""

from __future__ import annotations

from ..diagnostics import Severity

E, W, N = Severity.ERROR, Severity.WARNING, Severity.NOTE

FORMAT_ENTRIES: tuple[tuple[str, Severity, str, str], ...] = (
    (
        "hv-balloon.state-name",
        E,
        "the state name does not match its number",
        "hv_balloon prints 'state: <n> (<name>)' from a fixed table: 0 Initializing, 1 "
        "Initialized, 2 Balloon Up, 3 Balloon Down, 4 Hot Add, 5 Error; any other number "
        "prints Unknown. A name that does not fit its number was not printed by the driver.",
    ),
    (
        "meminfo.unit",
        E,
        "a value with or without ' kB' where the kernel differs",
        "/proc/meminfo prints every value with ' kB' except the HugePages_Total, _Free, _Rsvd"
        " and _Surp counts, which have no unit.",
    ),
    (
        "meminfo.unknown-field",
        N,
        "a field this checker does not know",
        "The label is not among the /proc/meminfo fields of any kernel known here (it may "
        "come from a newer or vendor kernel); its value is accepted and kept.",
    ),
    (
        "meminfo.inflated-pair",
        E,
        "InflatedTotal without InflatedFree, or the reverse",
        "The 2022 RFC kernels print 'InflatedTotal:' and 'InflatedFree:' together or not at "
        "all; one alone was edited or cut.",
    ),
    (
        "meminfo.rfc-placement",
        N,
        "the RFC lines where the RFC's documentation puts them",
        "The RFC's proc.rst example shows InflatedTotal/InflatedFree early in /proc/meminfo, "
        "but the RFC's code prints them after CmaFree; a sample with the documentation's "
        "order was written from the document, not read from a kernel.",
    ),
    (
        "show-mem.no-dump",
        E,
        "a kernel log without a show_mem() dump",
        "A show_mem() dump starts with a 'Mem-Info:' line (an OOM report or SysRq-m); the "
        "file given as a dump holds none.",
    ),
    (
        "show-mem.unknown-field",
        N,
        "a field no known kernel prints",
        "The name=value field is not printed by show_mem() in any kernel known here; it is "
        "kept as printed.",
    ),
    (
        "show-mem.duplicate-field",
        E,
        "a field twice on one line",
        "show_mem() prints each field once per line; a second copy means the line was joined "
        "or edited.",
    ),
    (
        "show-mem.zone-name-missing",
        E,
        "a zone line without its zone name",
        "Each zone line of a show_mem() dump starts with the zone's name ('DMA', 'DMA32', "
        "'Normal', 'Movable' ...) before 'free:'.",
    ),
    (
        "show-mem.free-area-total",
        E,
        "the free-list blocks do not add up",
        "The free-list line of a zone prints '<count>*<size>kB' per order and their sum as '="
        " <total>kB', counted under the zone lock, so the sum always holds.",
    ),
    (
        "show-mem.rfc-line",
        E,
        "the RFC's Balloon line in a mainline dump",
        "'Balloon InflatedTotal:<n>kB InflatedFree:<n>kB' comes from the 2022 RFC patches "
        "that were never merged; a mainline kernel (6.15 and later) prints ' Balloon:<n>kB' "
        "at the end of each node line instead.",
    ),
    (
        "show-mem.rfc-incomplete",
        E,
        "the RFC Balloon line lacks a counter",
        "The RFC prints both InflatedTotal and InflatedFree on its show_mem() Balloon line.",
    ),
    (
        "virtio-features.bad-character",
        E,
        "a character other than 0 or 1",
        "The features file prints one '0' or '1' per feature bit, bit 0 first, with nothing "
        "between them.",
    ),
    (
        "virtio-features.bad-width",
        E,
        "a width that is not a multiple of 32",
        "The features file prints 32, 64 or 128 bits; another width is not a features file, "
        "or it was cut.",
    ),
    (
        "virtio-features.width",
        W,
        "a width no known kernel prints",
        "Kernels print 64 characters (32 on some before 3.19) and 128 from 6.17 on; this many"
        " is a multiple of 32 that no known kernel prints.",
    ),
    (
        "virtio-features.extra-line",
        E,
        "a second line of text",
        "The features file is a single line of bits followed by a newline.",
    ),
    (
        "virtio-features.device",
        E,
        "the device file beside features is not a device id",
        "sysfs prints the virtio device id as 0x%04x (0x0005 for a balloon); the file beside "
        "features holds something else, so the device cannot be told.",
    ),
    (
        "virtio-features.unknown-bit",
        N,
        "a bit set that has no name here",
        "A feature bit is set that neither the virtio transport nor the balloon device "
        "defines in the versions known here; it may be newer than this checker. It is "
        "reported so that nothing is passed over silently.",
    ),
    (
        "vmmemctl.unknown-capability",
        N,
        "a capability bit no known driver defines",
        "vmw_balloon requests a fixed set of capabilities (BASIC, GRANULARITY, BATCHED, "
        "BATCHED_4K, SIGNALLED_WAKEUP, 64_BIT_TARGET); a bit outside them is reported, not "
        "rejected.",
    ),
    (
        "vmmemctl.legacy-layout",
        N,
        "an intermediate 2015 layout",
        "Some 4.4-4.19 era kernels lack a few lines of the generation that started around 4.4"
        " (the 2M, doorbell and capability lines came in stages); the file is accepted as "
        "such a layout.",
    ),
)
