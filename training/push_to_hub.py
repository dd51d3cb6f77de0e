"""Publish a trained Empath to the Hugging Face Hub: the Group MoELoRA adapter, the classifiers and the experience
bank, each in its own repo with a generated card.

    python -m training.push_to_hub --run-dir runs/paper --namespace my-org --dry-run     # writes runs/paper/publish
    python -m training.push_to_hub --run-dir runs/paper --namespace my-org --revision v1 --private

One repo each, because each is loaded on its own (``EMPATH_ADAPTER``, ``EMPATH_CLASSIFIERS``,
``EMPATH_EXPERIENCES``) and versioned on its own:

    NS/empath-adapter            model repo    adapter_config.json, adapter_model.safetensors (+ empath.json)
    NS/empath-classifiers        model repo    config.json + *.safetensors heads
    NS/empath-experiences        dataset repo  <persona>.jsonl; load it as datasets/NS/empath-experiences@REV

Every folder gets a README.md card (huggingface_hub.ModelCard / DatasetCard): base model, data and licences
(weights trained on ESConv-derived data are CC BY-NC 4.0), metrics from the evaluation (OUT/evaluation/results.json)
when present, intended use, the usage policy with its crisis disclaimer (empath/data/about.md), how to load.
The folders are built under --out (default RUN_DIR/publish); --dry-run stops there, so what you see is exactly
what would be uploaded. The commit hash of each upload is printed.
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
from dataclasses import dataclass
from pathlib import Path

from empath._data import PACKAGE_DATA, REPO_ROOT, DataFileError

KINDS = ("adapter", "classifiers", "experiences")
REPO_TYPES = {"adapter": "model", "classifiers": "model", "experiences": "dataset"}
# Only weights and text travel: safetensors, configs, tokenizer files, data. Never pickles or trainer state.
_ALLOWED = (".json", ".safetensors", ".txt", ".model", ".jinja", ".jsonl", ".yaml")
_SKIP = {"README.md", "training_args.json", "trainer_state.json"}
NC_LICENSE = "cc-by-nc-4.0"


@dataclass
class Sources:
    adapter: Path | None = None
    classifiers: Path | None = None
    experiences: Path | None = None
    metrics: Path | None = None  # training.evaluate's results.json
    base_model: str | None = None
    datasets: tuple[str, ...] = ("ESConv",)
    license: str = NC_LICENSE
    experiences_license: str = "apache-2.0"


# ---------------------------------------------------------------------------------------------
# Cards
# ---------------------------------------------------------------------------------------------
def usage_policy() -> str:
    """The app's usage policy (with its crisis disclaimer), from empath/data/about.md."""
    text = (PACKAGE_DATA / "about.md").read_text(encoding="utf-8")
    start = text.index("## Usage policy")
    end = text.find("\n## ", start + 3)
    return text[start:end if end > 0 else None].strip()


def metrics_table(metrics: Path | None) -> str:
    if metrics is None or not Path(metrics).is_file():
        return "No evaluation output was published with this release (run `python -m training.evaluate`)."
    from empath.evaluation import SYSTEM_LABELS
    from empath.metrics import TABLE3_COLUMNS

    results = json.loads(Path(metrics).read_text(encoding="utf-8"))
    columns = [*TABLE3_COLUMNS, "PPL"]
    lines = [f"Generation metrics of `python -m training.evaluate` on {results.get('turns', '?')} supporter turns "
             f"(data: `{Path(str((results.get('config') or {}).get('data', '?'))).name}`; x100 except PPL):", "",
             "| system | " + " | ".join(columns) + " |", "|---" * (len(columns) + 1) + "|"]
    for name, row in (results.get("systems") or {}).items():
        cells = ["—" if row.get(c) is None else f"{row[c]:.2f}" for c in columns]
        lines.append(f"| {SYSTEM_LABELS.get(name, name)} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def classifier_metrics(folder: Path) -> str:
    try:
        log = json.loads((folder / "config.json").read_text(encoding="utf-8")).get("training", {}).get("log", {})
    except (OSError, ValueError):
        log = {}
    rows = [f"| {task} | {lang} | {entry[task]['valid_accuracy']:.3f} |" for lang, entry in log.items()
            for task in ("role", "strategy") if isinstance(entry.get(task), dict) and "valid_accuracy" in entry[task]]
    if not rows:
        return "No validation metrics were recorded in config.json."
    return "\n".join(["| task | language | validation accuracy |", "|---|---|---|", *rows])


def _licence_note(license: str, datasets) -> str:
    names = ", ".join(datasets) or "the training data"
    if license == NC_LICENSE:
        return (f"Trained on {names}. ESConv (Liu et al., 2021) is distributed under CC BY-NC 4.0 and PsyQA (Sun et "
                "al., 2021) for research only, so these weights are **CC BY-NC 4.0: research and non-commercial use "
                "only**, with attribution to the datasets.")
    return f"Trained on {names}; released under {license}. Check the licences of the training data before use."


def _card(kind: str, repo_id: str, src: Sources, revision: str | None) -> str:
    from huggingface_hub import DatasetCard, DatasetCardData, ModelCard, ModelCardData

    ref = repo_id + (f"@{revision}" if revision else "")
    env = {"adapter": "EMPATH_ADAPTER", "classifiers": "EMPATH_CLASSIFIERS", "experiences": "EMPATH_EXPERIENCES"}[kind]
    load_ref = f"datasets/{ref}" if kind == "experiences" else ref
    base = src.base_model or "the base model it was trained on"
    base_env = f"EMPATH_BASE_MODEL={src.base_model} " if kind == "adapter" and src.base_model else ""
    common_tail = f"""
## How to load

```bash
{base_env}{env}={load_ref} python app.py          # or: python -m empath chat --message "..."
```

## Intended use

Research on emotional-support conversation: reproducing and extending the *Empath* paper, comparing
systems, studying role-based support. Not for deployment as a counselling or crisis service, not for
diagnosis, not for decisions about people.

{usage_policy().replace("## Usage policy", "## Usage policy and crisis disclaimer")}
"""
    if kind == "experiences":
        data = DatasetCardData(license=src.experiences_license, language=["en", "zh"], pretty_name="Empath experiences",
                               tags=["empath", "emotional-support", "role-play"])
        body = f"""# Empath experience bank

First-person experiences of each Empath persona (one `<persona>.jsonl` per persona: `id`, `role`, `source`,
`text` in en/zh, `topics`, Plutchik `emotion` scores 1-10), used by role-based experience RAG (paper Eq. 7-8):
the seeker's emotion vector is matched against the persona's experiences and the best one is woven into
comforting replies. Written by the Empath project about fictional characters; released under
{src.experiences_license}. The characters belong to their authors.

```python
from empath.experiences import ExperienceBank
bank = ExperienceBank.load("datasets/{ref}")
```
{common_tail}"""
        return str(DatasetCard.from_template(data, template_str="---\n{{ card_data }}\n---\n\n" + body))
    data = ModelCardData(license=src.license, library_name="empath", datasets=list(src.datasets),
                         language=["en", "zh"], tags=["empath", "emotional-support", kind] +
                         (["group-moelora"] if kind == "adapter" else []),
                         base_model=src.base_model if kind == "adapter" and src.base_model and "/" in src.base_model
                         and not Path(src.base_model).exists() else None)
    if kind == "adapter":
        body = f"""# Empath Group MoELoRA adapter

A Group MoELoRA adapter (role experts + strategy experts, routed by the persona and the helping strategy;
paper Section 4) for **{base}**.

```python
from empath.hub import load_causal_lm
from empath.group_moelora import GroupMoELoraModel

base, tokenizer = load_causal_lm("{src.base_model or 'BASE_MODEL'}")
model = GroupMoELoraModel.from_pretrained(base, "{repo_id}"{f', revision="{revision}"' if revision else ''})
```

## Training data and licence

{_licence_note(src.license, src.datasets)}

## Evaluation

{metrics_table(src.metrics)}
{common_tail}"""
    else:
        body = f"""# Empath classifiers (role matching + strategy prediction)

The paper's Appendix B classifiers in the folder format `empath.classifiers.load_classifiers()` reads
(`config.json` + safetensors heads): role matching from the seeker's background, strategy prediction from the
background and the dialogue so far.

```python
from empath.classifiers import load_classifiers
role_matcher, strategy_predictor = load_classifiers("{ref}")
```

## Training data and licence

{_licence_note(src.license, src.datasets)}

## Validation

{classifier_metrics(src.classifiers) if src.classifiers else ''}
{common_tail}"""
    return str(ModelCard.from_template(data, template_str="---\n{{ card_data }}\n---\n\n" + body))


# ---------------------------------------------------------------------------------------------
# Folders and upload
# ---------------------------------------------------------------------------------------------
def _copy_files(source: Path, target: Path, suffixes=_ALLOWED) -> list[str]:
    if not source.is_dir():
        raise DataFileError(f"{source}: folder not found")
    copied = []
    for path in sorted(source.iterdir()):
        if path.is_file() and path.suffix in suffixes and path.name not in _SKIP:
            shutil.copy2(path, target / path.name)
            copied.append(path.name)
    return copied


def build_folders(src: Sources, out: str | Path, repos: dict[str, str], revision: str | None = None,
                  kinds=KINDS) -> dict[str, Path]:
    """Write one folder per kind under ``out`` (replacing earlier ones): the files to upload plus README.md."""
    out = Path(out)
    folders = {}
    for kind in kinds:
        source = getattr(src, kind)
        if source is None:
            continue
        target = out / kind
        if target.exists():
            shutil.rmtree(target)
        target.mkdir(parents=True)
        copied = _copy_files(Path(source), target, (".jsonl",) if kind == "experiences" else _ALLOWED)
        required = {"adapter": "adapter_model.safetensors", "classifiers": "config.json"}.get(kind)
        if (required and required not in copied) or not copied:
            raise DataFileError(f"{source}: no {required or '*.jsonl'} to publish as the {kind}")
        (target / "README.md").write_text(_card(kind, repos[kind], src, revision), encoding="utf-8")
        folders[kind] = target
    return folders


def upload(folders: dict[str, Path], repos: dict[str, str], *, private: bool = False, revision: str | None = None,
           token: str | None = None, message: str = "Upload Empath release") -> dict[str, str]:
    """Create the repos (and the branch ``revision``) if needed, upload each folder; returns repo -> commit hash."""
    from huggingface_hub import HfApi

    api = HfApi(token=token)
    commits = {}
    for kind, folder in folders.items():
        repo_id, repo_type = repos[kind], REPO_TYPES[kind]
        api.create_repo(repo_id, repo_type=repo_type, private=private, exist_ok=True)
        if revision:
            api.create_branch(repo_id, branch=revision, repo_type=repo_type, exist_ok=True)
        info = api.upload_folder(repo_id=repo_id, repo_type=repo_type, folder_path=str(folder), revision=revision,
                                 commit_message=f"{message} ({kind})")
        commits[repo_id] = getattr(info, "oid", None) or str(info)
    return commits


def tree(folder: Path) -> str:
    lines = [f"{folder}/"]
    for path in sorted(folder.rglob("*")):
        if path.is_file():
            lines.append(f"  {path.relative_to(folder)}  ({path.stat().st_size:,} B)")
    return "\n".join(lines)


# ---------------------------------------------------------------------------------------------
# CLI
# ---------------------------------------------------------------------------------------------
def parse_args(argv=None) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog="python -m training.push_to_hub", description=__doc__.split("\n\n")[0],
                                formatter_class=argparse.RawDescriptionHelpFormatter,
                                epilog="Repos: NS/empath-adapter (model), NS/empath-classifiers (model), "
                                       "NS/empath-experiences (dataset; load as datasets/NS/empath-experiences@REV).")
    p.add_argument("--run-dir", help="a training.train_all output folder (adapter/, classifiers/, evaluation/)")
    p.add_argument("--adapter", help="adapter folder (default: RUN_DIR/adapter)")
    p.add_argument("--classifiers", help="classifier folder (default: RUN_DIR/classifiers)")
    p.add_argument("--experiences", help="experience bank folder (default: RUN_DIR/experiences, else experiences/)")
    p.add_argument("--metrics", help="training.evaluate results.json (default: RUN_DIR/evaluation/results.json)")
    p.add_argument("--base-model", help="base model of the adapter, for the card (default: from RUN_DIR/run.json)")
    p.add_argument("--dataset", action="append", help="training data named in the cards (default: ESConv)")
    p.add_argument("--license", default=NC_LICENSE, help="licence of the adapter and classifier weights")
    p.add_argument("--experiences-license", default="apache-2.0")
    p.add_argument("--namespace", help="Hub user or organisation: repos NS/empath-adapter, -classifiers, -experiences")
    p.add_argument("--adapter-repo"), p.add_argument("--classifiers-repo"), p.add_argument("--experiences-repo")
    p.add_argument("--only", default=",".join(KINDS), help="comma-separated subset of adapter,classifiers,experiences")
    p.add_argument("--out", help="where the folders are built (default: RUN_DIR/publish, else ./publish)")
    p.add_argument("--dry-run", action="store_true", help="build the folders and stop: nothing is uploaded")
    p.add_argument("--private", action="store_true", help="create the repos as private")
    p.add_argument("--revision", "--branch", dest="revision", help="branch to upload to (created if missing)")
    p.add_argument("--token", help="Hub token (default: HF_TOKEN / huggingface-cli login)")
    p.add_argument("--message", default="Upload Empath release", help="commit message")
    return p.parse_args(argv)


def sources_from_args(args) -> Sources:
    run = Path(args.run_dir) if args.run_dir else None
    meta = {}
    if run is not None and (run / "run.json").is_file():
        meta = json.loads((run / "run.json").read_text(encoding="utf-8"))

    def pick(explicit, default: Path | None) -> Path | None:
        if explicit:
            return Path(explicit)
        return default if default is not None and default.exists() else None

    return Sources(
        adapter=pick(args.adapter, run / "adapter" if run else None),
        classifiers=pick(args.classifiers, run / "classifiers" if run else None),
        experiences=pick(args.experiences, pick(meta.get("experiences"), run / "experiences" if run else None)
                         or REPO_ROOT / "experiences"),
        metrics=pick(args.metrics, run / "evaluation" / "results.json" if run else None),
        base_model=args.base_model or meta.get("base_model"),
        datasets=tuple(args.dataset or meta.get("datasets") or ("ESConv",)),
        license=args.license, experiences_license=args.experiences_license)


def main(argv=None) -> int:
    args = parse_args(argv)
    kinds = [k.strip() for k in args.only.split(",") if k.strip()]
    unknown = set(kinds) - set(KINDS)
    if unknown:
        print(f"error: --only: unknown {', '.join(sorted(unknown))}; valid: {', '.join(KINDS)}", file=sys.stderr)
        return 2
    repos = {k: getattr(args, f"{k}_repo") or (f"{args.namespace}/empath-{k}" if args.namespace else None)
             for k in KINDS}
    missing = [k for k in kinds if not repos[k]]
    if missing:
        print(f"error: no repo id for {', '.join(missing)}: give --namespace or --{missing[0]}-repo", file=sys.stderr)
        return 2
    src = sources_from_args(args)
    absent = [k for k in kinds if getattr(src, k) is None]
    if absent:
        print(f"error: nothing to publish as {', '.join(absent)}: give --run-dir or --{absent[0]}", file=sys.stderr)
        return 2
    out = Path(args.out or (Path(args.run_dir) / "publish" if args.run_dir else "publish"))
    try:
        folders = build_folders(src, out, repos, args.revision, kinds)
    except (DataFileError, OSError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    for kind, folder in folders.items():
        print(f"{kind} -> {REPO_TYPES[kind]} repo {repos[kind]}" + (f" (branch {args.revision})" if args.revision else ""))
        print(tree(folder))
    if args.dry_run:
        print(f"dry run: nothing uploaded; the folders above are exactly what would be ({out})")
        return 0
    commits = upload(folders, repos, private=args.private, revision=args.revision, token=args.token,
                     message=args.message)
    for repo_id, oid in commits.items():
        print(f"uploaded {repo_id}: commit {oid}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
