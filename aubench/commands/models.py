"""``aubench models fetch|use|verify``: get, choose and check the OpenFace 2.2.0 model files."""

from __future__ import annotations

import os
import sys
from pathlib import Path

from tqdm import tqdm

from aubench.pipeline import models
from aubench.pipeline.errors import AubenchError
from aubench.pipeline.models import store


def register(sub) -> None:
    p = sub.add_parser("models", help="download, choose and verify the OpenFace 2.2.0 model files",
                       description="The OpenFace 2.2.0 model files aubench reads, checked against a sha256 "
                                   "manifest shipped with aubench.")
    p.set_defaults(func=lambda _args: (p.print_help(), 0)[1])
    msub = p.add_subparsers(dest="models_command", metavar="SUBCOMMAND")

    f = msub.add_parser("fetch", help="download the model files from OpenFace's official release (resumable)")
    f.add_argument("--dir", metavar="DIR", help=f"where to put them (default: {models.default_download_dir()})")
    f.add_argument("--base-url", metavar="URL",
                   help=f"where the OpenFace repository's files are served, in its layout "
                        f"(default: {store.DEFAULT_BASE_URL}); for mirrors")
    f.add_argument("--yes", action="store_true", help="accept the OpenFace license without asking")
    f.add_argument("--quiet", action="store_true", help="no progress on stderr")
    f.set_defaults(func=_fetch)

    u = msub.add_parser("use", help="verify an existing OpenFace 2.2 folder (with model/ and AU_predictors/) "
                                    "and remember it")
    u.add_argument("dir", metavar="DIR")
    u.set_defaults(func=_use)

    v = msub.add_parser("verify", help="report missing, mismatched and extra model files (exit 1 on problems)")
    v.add_argument("--dir", metavar="DIR",
                   help="folder to check (default: the one aubench uses: AUBENCH_MODELS, `models use`, "
                        "or the download folder)")
    v.add_argument("-v", "--verbose", action="store_true", help="also list the extra files")
    v.set_defaults(func=_verify)


# --------------------------------------------------------------------------- fetch

class _FetchBar:
    """``store.fetch``'s progress as one tqdm bar on stderr: bytes of all files, the current file in front."""

    def __init__(self, stream=None, enabled: bool = True):
        self.stream = stream or sys.stderr
        self.enabled = enabled
        self.bar: tqdm | None = None

    def __call__(self, p: store.FetchProgress) -> None:
        if self.bar is None:
            self.bar = tqdm(total=p.total_bytes, unit="iB", unit_scale=True, unit_divisor=1024, file=self.stream,
                            disable=not self.enabled)
        self.bar.set_description_str(f"[{p.file_index}/{p.file_count}] {p.path}", refresh=False)
        self.bar.update(p.done_bytes - self.bar.n)

    def finish(self) -> None:
        if self.bar is not None:
            self.bar.close()


def _mib(n: int) -> str:
    return f"{n / (1 << 20):.1f}"


def _confirm_license(args, manifest: store.Manifest) -> bool:
    print(store.license_notice(manifest))
    if args.yes:
        return True
    if not sys.stdin or not sys.stdin.isatty():
        raise AubenchError("the OpenFace license must be accepted, and stdin is not a terminal to ask; "
                           f"read {manifest.license_url} and pass --yes to accept it")
    answer = input("Do you accept the OpenFace license and want to download the files? [y/N] ")
    return answer.strip().lower() in ("y", "yes")


def _fetch(args) -> int:
    manifest = store.load_manifest()
    target = Path(args.dir) if args.dir else models.default_download_dir()
    if not _confirm_license(args, manifest):
        print("license not accepted; nothing downloaded")
        return 1
    base_url = args.base_url or manifest.default_base_url
    print(f"fetching {len(manifest.entries)} files of {manifest.openface_tag} from {base_url} into {target}")
    printer = _FetchBar(enabled=not args.quiet)
    try:
        report = store.fetch(target, manifest, base_url=base_url, progress=printer)
    finally:
        printer.finish()
    resumed = f", {len(report.resumed)} resumed" if report.resumed else ""
    print(f"{target}: {len(manifest.entries)} files verified ({len(report.downloaded)} downloaded{resumed}, "
          f"{len(report.already_present)} already present, {_mib(report.bytes_downloaded)} MiB transferred)")
    if target.resolve() != models.default_download_dir().resolve():
        print(f"to use this folder: aubench models use {target}  (or set {models.ENV_VAR}={target})")
    return 0


# --------------------------------------------------------------------------- use / verify

def _print_report(report: store.VerifyReport, verbose: bool) -> None:
    for rel in report.missing:
        print(f"missing     {rel}")
    for m in report.mismatched:
        print(f"mismatched  {m.path}: expected sha256 {m.expected_sha256} ({m.expected_size} bytes), "
              f"found {m.received_sha256} ({m.received_size} bytes)")
    for rel in report.missing_optional:
        print(f"absent      {rel} (optional; the license is at {store.LICENSE_URL})")
    if verbose:
        for rel in report.extra:
            print(f"extra       {rel}")
    print(report.summary() + ("" if verbose or not report.extra else
                              " (extra files are not used by aubench; informational, list them with -v)"))


def _verify_dir(path: Path) -> store.VerifyReport:
    return store.verify(path, store.load_manifest(), cache=store.HashCache(store.hash_cache_file()))


def _use(args) -> int:
    path = Path(args.dir).expanduser().resolve()
    if not path.is_dir():
        raise AubenchError(f"{args.dir}: no such folder; expected an OpenFace 2.2 folder with model/ and "
                           "AU_predictors/, or run `aubench models fetch --dir DIR`")
    report = _verify_dir(path)
    _print_report(report, verbose=False)
    if not report.ok:
        raise AubenchError(f"{path}: not an intact OpenFace 2.2.0 model folder ({len(report.missing)} missing, "
                           f"{len(report.mismatched)} mismatched, listed above); not remembered; repair it with "
                           f"`aubench models fetch --dir {path}`")
    state = models.state_file()
    state.parent.mkdir(parents=True, exist_ok=True)
    tmp = state.with_name(state.name + f".{os.getpid()}.tmp")
    tmp.write_text(str(path) + "\n", encoding="utf-8")
    os.replace(tmp, state)
    note = (f"; note: {models.ENV_VAR}={os.environ[models.ENV_VAR]} is set and takes precedence"
            if os.environ.get(models.ENV_VAR) else "")
    print(f"aubench will use {path} (remembered in {state}){note}")
    return 0


def _verify(args) -> int:
    path = Path(args.dir).expanduser() if args.dir else models.locate()
    if not path.is_dir():
        raise AubenchError(f"{path}: no such folder; expected an OpenFace 2.2 folder with model/ and AU_predictors/")
    report = _verify_dir(path)
    _print_report(report, verbose=args.verbose)
    return 0 if report.ok else 1
