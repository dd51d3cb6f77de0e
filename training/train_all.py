"""One entry point from data to a folder ready to publish: data -> classifiers -> Group MoELoRA adapter ->
evaluation -> publish folders.

    python -m training.train_all --config training/configs/cpu-demo.yaml
    python -m training.train_all --config training/configs/paper.yaml                       # one GPU
    accelerate launch --num_processes 8 -m training.train_all --config training/configs/paper.yaml --only adapter
    python -m training.push_to_hub --run-dir runs/paper --namespace my-org                  # then publish

Stages (each writes under the config's ``out`` folder and is skipped when its outputs are newer than its inputs
and its config section is unchanged; ``--force`` reruns, ``--only`` picks stages):

``derive``       (optional) ``training.derive_dataset`` on the config's PsyQA-style inputs -> derive/derived.jsonl
``data``         the dialogue files (+ derived.jsonl) -> data/train.jsonl, data/valid.jsonl (split or given)
``classifiers``  ``training.train_classifiers`` on them (or a copy of an existing folder) -> classifiers/
``adapter``      ``empath.adapter.train`` (or ``training.train_demo_adapter``) -> adapter/
``evaluate``     ``training.evaluate`` on data/valid.jsonl with the new adapter and classifiers -> evaluation/
``package``      ``training.push_to_hub``'s folders with cards -> publish/ (+ run.json)

``--set key.sub=value`` overrides a config entry (the value is read as YAML).
"""

from __future__ import annotations

import argparse
import json
import random
import shutil
import sys
import time
from pathlib import Path

import yaml

from empath._data import REPO_ROOT, DataFileError, load_yaml

STAGES = ("derive", "data", "classifiers", "adapter", "evaluate", "package")


# ---------------------------------------------------------------------------------------------
# Config
# ---------------------------------------------------------------------------------------------
def load_config(path: str | Path, overrides=()) -> dict:
    config = load_yaml(path) or {}
    if not isinstance(config, dict):
        raise DataFileError(f"{path}: expected a mapping at the top level")
    for item in overrides:
        key, sep, value = item.partition("=")
        if not sep:
            raise DataFileError(f"--set {item!r}: expected key.sub=value")
        node = config
        *parents, last = key.strip().split(".")
        for part in parents:
            node = node.setdefault(part, {})
        node[last] = yaml.safe_load(value)
    if not config.get("out"):
        raise DataFileError(f"{path}: needs 'out' (the run folder)")
    return config


def _path(value) -> Path:
    """A config path: ``${EMPATH_SHARED_DATA}`` expanded, relative paths from the cwd, else from the repository."""
    from empath._data import shared_data_dir

    p = Path(str(value).replace("${EMPATH_SHARED_DATA}", str(shared_data_dir()))).expanduser()
    return p if p.is_absolute() or p.exists() else (REPO_ROOT / p if (REPO_ROOT / p).exists() else p)


def _args(section: dict, key: str = "args") -> list[str]:
    return [str(x) for x in (section.get(key) or [])]


# ---------------------------------------------------------------------------------------------
# Freshness
# ---------------------------------------------------------------------------------------------
def _files(paths) -> list[Path]:
    out = []
    for p in paths:
        p = Path(p)
        if p.is_dir():
            out += [f for f in p.rglob("*") if f.is_file()]
        elif p.exists():
            out.append(p)
    return out


def is_fresh(outputs, inputs, stamp: Path, section) -> bool:
    """Every output exists, the oldest is newer than the newest input, and the stage's config is unchanged."""
    outs = [Path(o) for o in outputs]
    if not outs or not all(o.exists() for o in outs) or not stamp.exists():
        return False
    if json.loads(stamp.read_text(encoding="utf-8")).get("config") != section:
        return False
    newest_input = max((f.stat().st_mtime for f in _files(inputs)), default=0.0)
    return min(o.stat().st_mtime for o in outs) >= newest_input


class Run:
    def __init__(self, config: dict, force: bool = False, only=None, log=print):
        self.config, self.force, self.only, self.log = config, force, set(only or STAGES), log
        self.out = Path(config["out"]).expanduser()
        self.stamps = self.out / ".stamps"
        self.timings: dict[str, object] = {}

    def stage(self, name: str, inputs, outputs, fn) -> None:
        section = self.config.get(name if name != "package" else "publish") or {}
        stamp = self.stamps / f"{name}.json"
        if name not in self.only:
            self.timings[name] = "not selected"
            return
        if not self.force and is_fresh(outputs, inputs, stamp, section):
            self.log(f"[{name}] skipped: outputs are newer than inputs")
            self.timings[name] = "skipped"
            return
        self.log(f"[{name}] running")
        start = time.time()
        fn()
        missing = [str(o) for o in outputs if not Path(o).exists()]
        if missing:
            raise RuntimeError(f"stage {name} finished without writing {', '.join(missing)}")
        self.stamps.mkdir(parents=True, exist_ok=True)
        stamp.write_text(json.dumps({"config": section, "finished": time.time()}), encoding="utf-8")
        self.timings[name] = round(time.time() - start, 1)
        self.log(f"[{name}] done in {self.timings[name]}s")

    # -- paths ------------------------------------------------------------------------------------
    @property
    def train_file(self) -> Path:
        return self.out / "data" / "train.jsonl"

    @property
    def valid_file(self) -> Path:
        return self.out / "data" / "valid.jsonl"

    @property
    def derived_file(self) -> Path:
        return self.out / "derive" / "derived.jsonl"

    @property
    def base_model(self) -> str | None:
        return (self.config.get("adapter") or {}).get("base_model")

    @property
    def experiences(self) -> Path:
        return _path((self.config.get("publish") or {}).get("experiences") or "experiences")

    # -- stages -----------------------------------------------------------------------------------
    def run(self) -> None:
        c = self.config
        data = c.get("data") or {}
        derive = data.get("derive")
        if derive:
            inputs = [_path(p) for p in derive.get("inputs") or []]
            self.stage("derive", inputs, [self.derived_file], lambda: self._derive(derive, inputs))
        sources = [_path(p) for p in data.get("train") or []] + ([self.derived_file] if derive else [])
        valid_sources = [_path(p) for p in data.get("valid") or []]
        if not sources:
            raise DataFileError("config: data.train (dialogue files) or data.derive is needed")
        self.stage("data", sources + valid_sources, [self.train_file, self.valid_file],
                   lambda: self._data(data, sources, valid_sources))
        clf = c.get("classifiers") or {}
        clf_inputs = [_path(clf["from"])] if clf.get("from") else [self.train_file, self.valid_file]
        self.stage("classifiers", clf_inputs, [self.out / "classifiers" / "config.json"], lambda: self._classifiers(clf))
        adapter = c.get("adapter") or {}
        self.stage("adapter", [self.train_file], [self.out / "adapter" / "adapter_model.safetensors"],
                   lambda: self._adapter(adapter))
        ev = c.get("evaluate") or {}
        if not ev.get("skip"):
            self.stage("evaluate", [self.valid_file, self.out / "adapter", self.out / "classifiers"],
                       [self.out / "evaluation" / "results.json"], lambda: self._evaluate(ev))
        pub_inputs = [self.out / "adapter", self.out / "classifiers", self.experiences, self.out / "evaluation"]
        self.stage("package", pub_inputs, [self.out / "publish" / k / "README.md" for k in
                                           ("adapter", "classifiers", "experiences")], self._package)

    def _derive(self, section: dict, inputs) -> None:
        from training import derive_dataset

        argv = ["--out", str(self.out / "derive"), *sum((["--input", str(p)] for p in inputs), []), *_args(section)]
        if derive_dataset.main(argv) != 0:
            raise RuntimeError("training.derive_dataset failed (see above)")

    def _data(self, section: dict, sources, valid_sources) -> None:
        from empath.dialogue import read_dialogues, write_jsonl

        fmt = section.get("format", "auto")

        def read(paths):
            out = []
            for p in paths:
                out += list(read_dialogues(p, format="jsonl" if p == self.derived_file else fmt))
            return out

        train = read(sources)
        if section.get("limit"):
            train = train[: int(section["limit"])]
        if valid_sources:
            valid = read(valid_sources)
        else:  # the paper: a random split (8:1:1; here train/valid only, the test split is your own file)
            rng = random.Random(section.get("seed", 42))
            train = list(train)
            rng.shuffle(train)
            n_valid = max(1, round(len(train) * float(section.get("valid_fraction", 0.1))))
            valid, train = train[:n_valid], train[n_valid:]
        if section.get("valid_limit"):
            valid = valid[: int(section["valid_limit"])]
        write_jsonl(train, self.train_file)
        write_jsonl(valid, self.valid_file)
        self.log(f"[data] {len(train)} training and {len(valid)} validation dialogues")

    def _classifiers(self, section: dict) -> None:
        target = self.out / "classifiers"
        if section.get("from"):
            if target.exists():
                shutil.rmtree(target)
            shutil.copytree(_path(section["from"]), target)
            return
        from training import train_classifiers

        argv = ["--esconv", str(section.get("esconv", "")), "--jsonl", str(self.train_file), "--valid-jsonl",
                str(self.valid_file), "--output", str(target), *_args(section)]
        if train_classifiers.main(argv) != 0:
            raise RuntimeError("training.train_classifiers failed (see above)")

    def _adapter(self, section: dict) -> None:
        target = self.out / "adapter"
        trainer = section.get("trainer", "group_moelora")
        if trainer == "demo":
            from training import train_demo_adapter

            argv = ["--out", str(target), *(["--base-model", self.base_model] if self.base_model else []),
                    *_args(section)]
            if train_demo_adapter.main(argv) not in (0, None):
                raise RuntimeError("training.train_demo_adapter failed (see above)")
            return
        if trainer != "group_moelora":
            raise DataFileError(f"adapter.trainer must be group_moelora or demo, not {trainer!r}")
        from empath.adapter import adapter_config, train

        config = adapter_config(**(section.get("config") or {}))
        train(self.base_model, self.train_file, target, config=config, data_format="jsonl",
              **(section.get("training") or {}))

    def _evaluate(self, section: dict) -> None:
        from training import evaluate

        if (self.stamps / "evaluate.json").exists():  # a finished run with other inputs or settings: start over
            shutil.rmtree(self.out / "evaluation", ignore_errors=True)  # (without a stamp: a killed run, resumed)
        argv = ["--data", str(self.valid_file), "--format", "jsonl", "--out", str(self.out / "evaluation"),
                "--adapter", str(self.out / "adapter"), "--classifiers", str(self.out / "classifiers"),
                "--experiences", str(self.experiences), *(["--base-model", self.base_model] if self.base_model else []),
                *_args(section)]
        if evaluate.main(argv) != 0:
            raise RuntimeError("training.evaluate failed (see above)")

    def _package(self) -> None:
        from training.push_to_hub import KINDS, Sources, build_folders

        pub = self.config.get("publish") or {}
        meta = {"base_model": self.base_model, "datasets": pub.get("datasets") or ["ESConv"],
                "experiences": str(self.experiences), "config": self.config}
        (self.out / "run.json").write_text(json.dumps(meta, indent=2, ensure_ascii=False, default=str),
                                           encoding="utf-8")
        metrics = self.out / "evaluation" / "results.json"
        src = Sources(adapter=self.out / "adapter", classifiers=self.out / "classifiers", experiences=self.experiences,
                      metrics=metrics if metrics.exists() else None, base_model=self.base_model,
                      datasets=tuple(meta["datasets"]), license=pub.get("license", "cc-by-nc-4.0"))
        ns = pub.get("namespace", "YOUR-NAMESPACE")
        build_folders(src, self.out / "publish", {k: f"{ns}/empath-{k}" for k in KINDS}, pub.get("revision"))


def parse_args(argv=None) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog="python -m training.train_all", description=__doc__.split("\n\n")[0],
                                formatter_class=argparse.RawDescriptionHelpFormatter,
                                epilog="Configs: training/configs/paper.yaml (Table 6), cpu-demo.yaml, tiny.yaml. "
                                       "Multi-GPU: accelerate launch --num_processes N -m training.train_all "
                                       "--config training/configs/paper.yaml --only adapter")
    p.add_argument("--config", required=True, help="YAML config (training/configs/*.yaml)")
    p.add_argument("--set", action="append", default=[], metavar="KEY=VALUE",
                   help="override a config entry, e.g. --set adapter.training.max_steps=10 (repeatable)")
    p.add_argument("--only", help=f"comma-separated stages to run ({','.join(STAGES)})")
    p.add_argument("--force", action="store_true", help="rerun the selected stages even when up to date")
    return p.parse_args(argv)


def main(argv=None) -> int:
    args = parse_args(argv)
    only = [s.strip() for s in args.only.split(",")] if args.only else None
    if only and set(only) - set(STAGES):
        print(f"error: --only: unknown stage(s) {sorted(set(only) - set(STAGES))}; valid: {', '.join(STAGES)}",
              file=sys.stderr)
        return 2
    try:
        config = load_config(args.config, args.set)
        run = Run(config, force=args.force, only=only)
        run.run()
    except (DataFileError, RuntimeError, ValueError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    print(json.dumps({"out": str(run.out), "stages": run.timings}))
    print(f"ready to publish: python -m training.push_to_hub --run-dir {run.out} --namespace YOUR-NAMESPACE")
    return 0


if __name__ == "__main__":
    sys.exit(main())
