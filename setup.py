"""Ship the templates, the sample snapshot and the example registry inside the package.

pyproject.toml holds the metadata; this file only maps the repository's top-level
`notebooks/` and `data/` folders into the wheel as `review/notebooks` and `review/data`,
so `review.settings.config.bundled()` finds the same names in a clone and in an installed kit.
"""

from setuptools import find_packages, setup

setup(
    packages=[*find_packages(include=["review", "review.*"]), "review.notebooks", "review.data"],
    package_dir={"review.notebooks": "notebooks", "review.data": "data"},
    package_data={
        "review": ["py.typed"],
        "review.settings": ["*.toml"],
        "review.notebooks": ["*.ipynb"],
        "review.data": ["services.yaml", "sample/*.jsonl", "sample/manifest.json"],
    },
    # JupyterLab run from this environment keeps the templates free of outputs (review/pages/lab.py)
    data_files=[
        ("etc/jupyter/jupyter_server_config.d", ["jupyter-config/rt-incident-review.json"])
    ],
)
