"""Lint the Helm chart, render it, and validate the manifests against Kubernetes' schemas.

Helm itself runs through helm-python-sdk (Helm's Go SDK as a shared library,
from PyPI); kubernetes-validate holds the API schemas. Neither is a ChatGrid
dependency: deploy/check.sh installs both into a throwaway venv and runs this.
Exits 1 on any lint error, render error or schema violation.
"""

from __future__ import annotations

import sys
from pathlib import Path

import helm_python as helm
import kubernetes_validate
import yaml

CHART = Path(__file__).parent / "helm" / "chatgrid"
KUBE_VERSION = "1.30.0"


def main() -> int:
    report = helm.lint(str(CHART), strict=True, kube_version=f"v{KUBE_VERSION}")
    problems = [m for m in report["messages"] if m["severity"] >= 2] + list(report["errors"])
    for problem in problems:
        print(f"lint: {problem}")
    manifests = helm.Chart.load(str(CHART)).render(name="demo", namespace="chatgrid")
    documents = 0
    for path, text in sorted(manifests.items()):
        for document in yaml.safe_load_all(text):
            if not document:
                continue
            documents += 1
            try:
                kubernetes_validate.validate(document, KUBE_VERSION, strict=True)
            except kubernetes_validate.ValidationError as exc:
                problems.append(f"{path}: {exc.message}")
                print(f"schema: {path}: {exc.message}")
            print(f"ok: {path} {document['kind']} {document['metadata']['name']}")
    if documents == 0:
        problems.append("the chart rendered no manifest")
    print(f"chart: {documents} manifests, {len(problems)} problems")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
