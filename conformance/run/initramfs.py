"""The guest's initramfs: a newc cpio archive of a static busybox, the kernel's virtio
balloon modules (with their dependencies, in load order) and an init that takes snapshots.

Modules are found in an unpacked kernel package (``lib/modules/<release>`` or
``usr/lib/modules/<release>``), decompressed here because busybox ``insmod`` takes only
plain ``.ko`` files, and ordered by the ``depends=`` field of each module's ``.modinfo``
ELF section, since a package unpacked with ``dpkg-deb -x`` has no ``modules.dep`` (depmod
makes it at install time). A module the kernel has built in (``modules.builtin``, or simply
no file for it) needs nothing.
"""

from __future__ import annotations

import gzip
import lzma
import struct
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from .errors import HarnessError
from .serial import READY, SNAPSHOT_SHELL

if TYPE_CHECKING:  # checked as the dataclasses they behave as (records.py)
    from dataclasses import dataclass
else:
    from ..records import dataclass

WANTED_MODULES = ("virtio_pci", "virtio_balloon")
BUSYBOX_PATHS = (Path("/bin/busybox"), Path("/usr/bin/busybox"))
_DECOMPRESS = {".ko": lambda data: data, ".ko.xz": lzma.decompress, ".ko.gz": gzip.decompress}

INIT = """#!/bin/busybox sh
/bin/busybox --install -s /bin
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t debugfs debugfs /sys/kernel/debug
for m in %(modules)s; do
  insmod "/modules/$m.ko" || echo "balloon-conform init: insmod $m failed"
done
# kernel messages from here on would only interleave with the snapshots
echo 1 > /proc/sys/kernel/printk
stty -echo 2>/dev/null
%(snapshot)s
echo "%(ready)s $(cat /proc/sys/kernel/osrelease)"
while read -r cmd tag; do
  case "$cmd" in
    SNAP) bc_snapshot "$tag" ;;
    OFF) break ;;
  esac
done
poweroff -f
"""


@dataclass(frozen=True)
class Entry:
    """One member of a newc archive."""

    name: str
    mode: int
    """File type and permission bits, as ``st_mode``."""
    data: bytes = b""
    rdev: tuple[int, int] = (0, 0)
    """Major and minor of a device node."""


def newc(entries: Iterable[Entry]) -> bytes:
    """The entries as a newc ("070701") cpio archive, with its trailer."""
    out = bytearray()
    for ino, entry in enumerate((*entries, Entry("TRAILER!!!", 0)), 1):
        name = entry.name.encode("utf-8") + b"\0"
        fields = (ino, entry.mode, 0, 0, 1, 0, len(entry.data), 0, 0, *entry.rdev, len(name), 0)
        out += b"070701" + b"".join(b"%08X" % field for field in fields) + name
        out += b"\0" * (-len(out) % 4) + entry.data
        out += b"\0" * (-len(out) % 4)
    return bytes(out)


def modinfo_depends(ko: bytes) -> tuple[str, ...]:
    """The ``depends=`` of an ELF64 little-endian kernel module's ``.modinfo`` section."""
    if ko[:4] != b"\x7fELF" or ko[4] != 2 or ko[5] != 1:
        raise HarnessError("not a 64-bit little-endian ELF module")
    (shoff,) = struct.unpack_from("<Q", ko, 0x28)
    shentsize, shnum, shstrndx = struct.unpack_from("<HHH", ko, 0x3A)
    sections = [struct.unpack_from("<IIQQQQ", ko, shoff + i * shentsize) for i in range(shnum)]
    names = sections[shstrndx]
    for name, _, _, _, offset, size in sections:
        label = ko[names[4] + name : ko.index(b"\0", names[4] + name)]
        if label == b".modinfo":
            for field in ko[offset : offset + size].split(b"\0"):
                if field.startswith(b"depends="):
                    return tuple(d.decode() for d in field[8:].split(b",") if d)
    return ()


@dataclass(frozen=True)
class Kernel:
    """An unpacked kernel package: its release, image and modules directory."""

    release: str
    image: Path
    modules: Path | None

    @classmethod
    def find(cls, root: Path) -> Kernel:
        """The one kernel below ``root`` (``dpkg-deb -x`` of Debian's image packages)."""
        for base in (root / "lib/modules", root / "usr/lib/modules"):
            for tree in sorted(base.glob("*")) if base.is_dir() else ():
                images = [tree / "vmlinuz", root / "boot" / f"vmlinuz-{tree.name}"]
                image = next((i for i in images if i.is_file()), None)
                if image is not None:
                    return cls(tree.name, image, tree)
        raise HarnessError(f"{root}: no kernel (lib/modules/<release> and its vmlinuz) found")

    @classmethod
    def of_image(cls, image: Path, modules: Path | None = None) -> Kernel:
        """A kernel image (bzImage) and, optionally, its modules: ``lib/modules/<release>``
        itself or a root holding it (``make modules_install INSTALL_MOD_PATH=ROOT``). The
        release is the image's own, from its boot header, else the modules folder's name."""
        release = image_release(image)
        if modules is not None:
            modules = _modules_tree(modules, release)
            release = release or modules.name
        return cls(release or image.name, image, modules)

    def module_files(self) -> dict[str, Path]:
        """Every loadable module file by its name (``-`` spelt ``_``)."""
        found: dict[str, Path] = {}
        for path in sorted((self.modules / "kernel").rglob("*.ko*")) if self.modules else ():
            for suffix in _DECOMPRESS:
                if path.name.endswith(suffix):
                    found[path.name[: -len(suffix)].replace("-", "_")] = path
        return found


def image_release(image: Path) -> str:
    """The release an x86 bzImage names in its boot header (``kernel_version``, boot
    protocol 2.00+), or "" when it has none; an unreadable file is a HarnessError."""
    try:
        with image.open("rb") as stream:
            head = stream.read(0x8000)
    except OSError as exc:
        raise HarnessError(f"{image}: cannot read the kernel image: {exc.strerror}") from exc
    if len(head) < 0x210 or head[0x202:0x206] != b"HdrS":
        return ""
    (offset,) = struct.unpack_from("<H", head, 0x20E)
    start = offset + 0x200
    text = head[start : head.find(b"\0", start)] if offset and start < len(head) else b""
    words = text.decode("ascii", errors="replace").split()
    return words[0] if words else ""


def _modules_tree(folder: Path, release: str) -> Path:
    """``lib/modules/<release>`` given as itself or as a root that holds it."""
    if (folder / "kernel").is_dir():
        return folder
    for base in (folder / "lib/modules", folder / "usr/lib/modules"):
        trees = sorted(t for t in base.glob("*") if (t / "kernel").is_dir())
        chosen = [t for t in trees if t.name == release] or trees
        if chosen:
            return chosen[0]
    raise HarnessError(
        f"{folder}: no kernel modules (neither <release>/kernel nor lib/modules/<release>)"
    )


def load_order(kernel: Kernel, wanted: Sequence[str] = WANTED_MODULES) -> list[tuple[str, bytes]]:
    """(name, plain .ko bytes) of ``wanted`` and their dependencies, dependencies first;
    a name with no module file is taken to be built in."""
    files = kernel.module_files()
    order: list[tuple[str, bytes]] = []
    seen: set[str] = set()

    def visit(name: str, chain: tuple[str, ...]) -> None:
        if name in seen or name not in files:
            return
        if name in chain:
            raise HarnessError(f"module dependency cycle: {' -> '.join((*chain, name))}")
        data = _plain(files[name])
        for dependency in modinfo_depends(data):
            visit(dependency.replace("-", "_"), (*chain, name))
        seen.add(name)
        order.append((name, data))

    for name in wanted:
        visit(name, ())
    return order


def _plain(path: Path) -> bytes:
    for suffix, decompress in _DECOMPRESS.items():
        if path.name.endswith(suffix):
            try:
                return bytes(decompress(path.read_bytes()))
            except (OSError, lzma.LZMAError, EOFError) as exc:
                raise HarnessError(f"{path}: cannot read the module: {exc}") from exc
    raise HarnessError(f"{path}: a module compression this harness cannot undo")


def find_busybox() -> Path:
    """A statically linked busybox (package ``busybox-static``)."""
    for path in BUSYBOX_PATHS:
        if path.is_file() and not _dynamic(path.read_bytes()):
            return path
    raise HarnessError("no static busybox found (install busybox-static)")


def _dynamic(elf: bytes) -> bool:
    """Whether an ELF64 executable asks for a program interpreter (PT_INTERP)."""
    if elf[:4] != b"\x7fELF" or elf[4] != 2:
        return True
    (phoff,) = struct.unpack_from("<Q", elf, 0x20)
    phentsize, phnum = struct.unpack_from("<HH", elf, 0x36)
    return any(struct.unpack_from("<I", elf, phoff + i * phentsize)[0] == 3 for i in range(phnum))


def build(kernel: Kernel, busybox: Path) -> bytes:
    """The initramfs for ``kernel``: busybox, its balloon modules and the snapshot init."""
    modules = load_order(kernel)
    init = INIT % {
        "modules": " ".join(name for name, _ in modules),
        "snapshot": SNAPSHOT_SHELL.strip(),
        "ready": READY,
    }
    folders = ("bin", "dev", "proc", "sys", "tmp", "modules")
    entries = [Entry(name, 0o040755) for name in folders]
    entries += [
        Entry("dev/console", 0o020600, rdev=(5, 1)),
        Entry("bin/busybox", 0o100755, busybox.read_bytes()),
        Entry("init", 0o100755, init.encode("utf-8")),
    ]
    entries += [Entry(f"modules/{name}.ko", 0o100644, data) for name, data in modules]
    return newc(entries)
