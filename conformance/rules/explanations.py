"""What every finding id that is not a rule means: the parser's, the reader's and the schemas'.

Rules carry their own documentation (:mod:`conformance.rules.base`); the ids the parsers
(``parse.*``, ``layout.*``, ``text.*``; the format-specific ones are in
:mod:`~conformance.rules.format_ids`), the capture reader
(``capture.*``), the series logic (``series.reboot``) and the JSON Schemas (``schema.*``,
one per validation keyword) report are explained here, so ``balloon-conform explain``
answers for any id a report can hold. Each text stands on its own: it says what was found,
why it matters and what to do, without pointing at a document the reader may not have.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from ..diagnostics import Severity
from .format_ids import FORMAT_ENTRIES

if TYPE_CHECKING:  # checked as the dataclasses they behave as (records.py)
    from dataclasses import dataclass
else:
    from ..records import dataclass

E, W, N = Severity.ERROR, Severity.WARNING, Severity.NOTE


@dataclass(frozen=True)
class Explanation:
    """One finding id: its usual severity, a title and a self-contained explanation."""

    id: str
    severity: Severity
    title: str
    text: str


_ENTRIES = (
    # the bytes of a file
    (
        "text.empty",
        E,
        "the file is empty",
        "A balloon statistics file always prints at least one line; an empty file was cut "
        "short or never written.",
    ),
    (
        "text.bom",
        W,
        "a byte-order mark precedes the text",
        "The kernel never writes a UTF-8 byte-order mark; an editor or a Windows tool added "
        "it. The text after it is checked as usual.",
    ),
    (
        "text.invalid-utf8",
        E,
        "bytes that are not valid UTF-8",
        "The kernel prints ASCII in these files; a byte that is not even valid UTF-8 means "
        "the file was damaged or is not the file it is named after.",
    ),
    (
        "text.nul",
        E,
        "a NUL byte in the text",
        "The kernel prints no NUL bytes in these files; a NUL usually means the file was read"
        " past its end (a sparse or truncated copy).",
    ),
    (
        "text.odd-space",
        W,
        "a space character the kernel never prints",
        "The kernel pads these files with spaces (and a few with tabs). A form feed, a "
        "vertical tab, a file or group separator, a no-break or ideographic space is no "
        "padding it prints: the value beside it is still read, as the lenient layout reads "
        "any run of blanks, and this says the file is not what a kernel wrote.",
    ),
    # the shape of lines
    (
        "parse.unreadable-line",
        E,
        "a line that cannot be read",
        "The line does not have the shape the format prints (for example 'Label:   value kB' "
        "in /proc/meminfo or 'name value' in /proc/vmstat). It is reported at its line and "
        "the rest of the file is still read.",
    ),
    (
        "parse.bad-number",
        E,
        "a value that is not a decimal number",
        "Where the kernel prints a number with %lu, %llu or %d, the text holds something else"
        " (letters, a sign where none can be, or digits out of range).",
    ),
    (
        "parse.bad-value",
        E,
        "a value of the wrong shape",
        "The value is not what the kernel prints at that place (for example '<number> kB' "
        "after an RFC InflatedTotal label, or '= <total>kB' at the end of a show_mem() free "
        "list).",
    ),
    (
        "parse.duplicate-line",
        E,
        "a line that appears twice",
        "The kernel prints each field once per file (once per node or zone in a show_mem() "
        "dump); a second line with the same label means two outputs were joined or the file "
        "was edited. The first value is kept.",
    ),
    (
        "parse.missing-line",
        E,
        "a line the kernel always prints is absent",
        "Some lines are printed unconditionally by every kernel that prints the format "
        "(MemTotal in /proc/meminfo, the line of bits in a virtio features file); without "
        "them the file was cut short.",
    ),
    (
        "parse.order",
        E,
        "a line out of the kernel's order",
        "The kernel prints these lines in a fixed order (show_mem(): the global block, then "
        "the nodes, then the zones, then lowmem_reserve[] after its zone); a line elsewhere "
        "means the dump was interleaved with other log lines or edited.",
    ),
    (
        "parse.unknown-label",
        E,
        "a label this format never prints",
        "The label is not one the kernel's printing code for this format has ever used, in "
        "any version known here; it is kept out of the instance and reported.",
    ),
    # the exact layout
    (
        "layout.whitespace",
        W,
        "spacing differs from the kernel's",
        "With --layout exact (and for captures) every byte is compared with what the kernel's"
        " printf format produces; here only spaces differ, as when a document collapses the "
        "padding. The values are read all the same.",
    ),
    (
        "layout.text",
        W,
        "text differs from the kernel's layout",
        "With --layout exact (and for captures) every byte is compared with what the kernel's"
        " printf format produces; here more than spacing differs (a label, a separator, a "
        "blank line).",
    ),
    (
        "layout.blank-line",
        W,
        "a blank line the kernel does not print",
        "The kernel prints no empty line at this place (vmmemctl of 4.20 and later, "
        "/proc/vmstat); it was added by hand or by a tool that joined outputs.",
    ),
    (
        "layout.trailing-newline",
        W,
        "the last line has no newline",
        "The kernel ends every line with a newline; a missing one at the end means the file "
        "was cut or written by an editor.",
    ),
    (
        "layout.line-ending",
        W,
        "a CRLF line end",
        "The kernel ends lines with LF alone; CR LF comes from a copy through a Windows tool "
        "or a serial console.",
    ),
    (
        "layout.annotation",
        W,
        "a '//' annotation",
        "Documentation samples sometimes annotate lines with '// ...'; the kernel never "
        "prints them. The annotation is ignored when reading the value.",
    ),
    # reading a capture
    (
        "capture.empty",
        E,
        "nothing was read from the capture",
        "No balloon-related file (proc/meminfo, proc/vmstat, a virtio features file, "
        "sys/kernel/debug/hv-balloon, vmmemctl or virtio-balloon, a kernel log with a "
        "show_mem() dump) was read, so nothing was checked. Usually the wrong directory was "
        "given: a fleet whose members hold snapshots t0, t1 ... is checked with --series; a "
        "stray folder in a fleet is not a capture. A run that checked nothing is never a "
        "pass.",
    ),
    (
        "capture.unknown-file",
        N,
        "a file that is not a known guest file",
        "The capture holds a file whose name and content match no format this checker reads; "
        "it is listed so that nothing is dropped silently. Rename it after its format "
        "(meminfo, vmstat, dmesg ...) if it is one.",
    ),
    (
        "capture.duplicate-path",
        E,
        "a path stored twice in a tarball",
        "A tarball holds two members of the same name ('./proc/meminfo' and 'proc/meminfo' "
        "count as one). Extraction would keep the last, so the last copy is checked and the "
        "finding says where the first one was: a capture must not hide a file behind another.",
    ),
    (
        "capture.trailing-data",
        E,
        "data after the end of a tarball",
        "Bytes that are not zeros follow the tar end-of-archive blocks or the last gzip "
        "member. tar itself would ignore them, so they may hide files from a reader that "
        "stops early; the checker reads every gzip member and says so instead.",
    ),
    (
        "capture.header-too-large",
        E,
        "a pax or GNU long-name header over 64 KiB",
        "A tar member's extended header (pax 'x'/'g' records, or a GNU 'L'/'K' long name) is "
        "larger than any real capture needs; it is not read, so a crafted archive cannot make "
        "the reader take quadratic time or unbounded memory (CPython's tarfile, before the "
        "fix for CVE-2024-6232, does both).",
    ),
    (
        "capture.unchecked",
        E,
        "a capture whose checking stopped",
        "Checking this capture stopped before it ended: the checker failed on it, or the "
        "worker process checking it was killed (out of memory, a crash). The capture is "
        "reported as not checked, an error, and the rest of the fleet is checked and "
        "reported as usual; --debug shows the failure.",
    ),
    (
        "capture.manifest",
        E,
        "capture.json is not valid",
        "capture.json, the manifest 'balloon-conform capture' writes, is not a JSON object, "
        "gives a name twice, or has a member that breaks its schema (capture.schema.json, "
        "shipped with the tool: 'balloon-conform schema show capture'), such as a time "
        "that is not a date and time with its zone. A member that is not valid is not "
        "used: the check goes on as if it were absent.",
    ),
    (
        "capture.unreadable",
        W,
        "part of the capture cannot be read",
        "A directory could not be listed or a tarball could not be read; whatever was below "
        "it is not checked.",
    ),
    (
        "capture.symlink",
        W,
        "a symbolic link, not followed",
        "Captures are untrusted input and are read without following links; copy sysfs with "
        "'balloon-conform capture' (which resolves the virtio device links itself) or 'cp "
        "-rL'.",
    ),
    (
        "capture.hard-link",
        W,
        "a hard link, skipped",
        "A file with several names may be a file from outside the capture; it is not read.",
    ),
    (
        "capture.special-file",
        W,
        "a device, FIFO or socket, not opened",
        "Only regular files are read from a capture; opening a device or FIFO could block or "
        "change state.",
    ),
    (
        "capture.unsafe-path",
        W,
        "an absolute or '..' path in a tarball",
        "A tar member whose path leaves the capture is never read; a tarball made with 'tar "
        "-C DIR -czf cap.tgz .' has none.",
    ),
    (
        "capture.changed",
        W,
        "a file replaced while it was read",
        "The file changed between the check of its type and its read, so what was read may "
        "not be what was checked; it is skipped.",
    ),
    (
        "capture.file-too-large",
        W,
        "a file over the size limit",
        "Each file is read up to --max-file-size bytes (1 MiB by default); a larger one is "
        "skipped. Raise the limit for large kernel logs.",
    ),
    (
        "capture.too-large",
        W,
        "the capture over its total size limit",
        "A capture may hold at most a fixed number of bytes in all; files beyond it are skipped.",
    ),
    (
        "capture.archive-too-large",
        W,
        "a tarball that inflates beyond the limit",
        "Tarballs are read in place with a cap on how much they may inflate to (a "
        "decompression bomb stops there); the rest is not read.",
    ),
    (
        "capture.too-many-files",
        W,
        "more guest files than the limit",
        "A capture holds a few dozen guest files; past the limit the rest are skipped.",
    ),
    (
        "capture.too-many-entries",
        W,
        "more directory entries than the limit",
        "The reader looks at a bounded number of directory entries or tar members; the rest "
        "are not looked at.",
    ),
    (
        "capture.too-deep",
        E,
        "directories nested too deep",
        "A capture mirrors a guest's root a few levels deep; directories nested deeper than "
        "the limit are not read.",
    ),
    # series
    (
        "series.reboot",
        N,
        "the guest rebooted between two snapshots",
        "The boot id in capture.json changed, or the uptime went back, between two snapshots:"
        " event counters restart at boot, so the snapshots after the reboot start a new "
        "series and are not compared with the ones before.",
    ),
)

SCHEMA_KEYWORDS = {
    # JSON Schema 2020-12 keywords whose failure is reported as schema.<keyword>
    "type": "the value has the wrong JSON type (a string where the format has a number ...)",
    "enum": "the value is not one of the values the format allows",
    "const": "the value is not the one value the format allows",
    "multipleOf": "the value is not a multiple of what the format allows (a size in whole pages)",
    "maximum": "the value is larger than the largest the kernel can print (its C type's range)",
    "exclusiveMaximum": "the value is not below the format's bound",
    "minimum": "the value is smaller than the kernel can print (counts are not negative)",
    "exclusiveMinimum": "the value is not above the format's bound",
    "maxLength": "the text is longer than the kernel prints",
    "minLength": "the text is shorter than the kernel prints (an empty name)",
    "pattern": "the text does not have the shape the kernel prints",
    "maxItems": "more entries than the kernel prints",
    "minItems": "fewer entries than the kernel prints",
    "uniqueItems": "an entry appears twice where the kernel prints each once",
    "maxContains": "too many entries of one kind",
    "minContains": "too few entries of one kind",
    "contains": "no entry of a kind the kernel always prints",
    "maxProperties": "more fields than the format has",
    "minProperties": "fewer fields than the format has (an empty block)",
    "required": "a field the kernel always prints is missing",
    "dependentRequired": "a field is present without a field the kernel prints with it",
    "dependentSchemas": "a field is present and the fields around it do not fit it",
    "additionalProperties": "a field this format's dialect never prints",
    "unevaluatedProperties": "a field this format's dialect never prints",
    "unevaluatedItems": "an entry this format never prints",
    "propertyNames": "a field name of a shape the kernel never prints",
    "patternProperties": "a field whose value does not fit the fields of its kind",
    "properties": "a field whose value does not fit",
    "items": "an entry that does not fit",
    "prefixItems": "an entry at a fixed position that does not fit",
    "allOf": "the value breaks one of several conditions that must all hold",
    "anyOf": "the value fits none of the shapes the format allows",
    "oneOf": "the value fits none, or more than one, of the shapes the format allows",
    "not": "the value has a shape the format rules out",
    "if": "a condition between fields does not hold",
    "then": "a condition between fields does not hold",
    "else": "a condition between fields does not hold",
    "format": "the text is not a valid date-time, URI or the like",
    "$ref": "the value breaks a shared definition of the format",
    "$dynamicRef": "the value breaks a shared definition of the format",
    "None": "a value where the format allows none (a false subschema)",
}

EXPLANATIONS: dict[str, Explanation] = {
    **{i: Explanation(i, s, t, x) for i, s, t, x in (*_ENTRIES, *FORMAT_ENTRIES)},
    **{
        f"schema.{keyword}": Explanation(
            f"schema.{keyword}",
            E,
            what,
            f"The parsed file breaks its format's JSON Schema (keyword '{keyword}'): {what}. "
            "The schemas ship with the tool ('balloon-conform schema list', 'schema show "
            "FORMAT'); the finding's hint names the schema path, and the message the "
            "sentence of the schema that explains the constraint where it has one.",
        )
        for keyword, what in SCHEMA_KEYWORDS.items()
    },
}
"""Every non-rule finding id, explained."""
