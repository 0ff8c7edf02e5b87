"""Maps the top-level folders frontends/, passes/, targets/ and runtime/ into the
single import root ``snncc`` (snncc.frontends, ...). Never installs them top level."""
from setuptools import find_packages, setup

ROOTS = {
    "snncc": "snncc",
    "snncc.frontends": "frontends",
    "snncc.passes": "passes",
    "snncc.targets": "targets",
    "snncc.runtime": "runtime",
}

packages, package_dir = [], {}
for package, folder in ROOTS.items():
    package_dir[package] = folder
    packages.append(package)
    packages += [f"{package}.{sub}" for sub in find_packages(folder) if not sub.startswith("snncc")]

setup(
    packages=packages,
    package_dir=package_dir,
    package_data={package: ["*.json", "*.v", "*.md", "py.typed"] for package in packages},
)
