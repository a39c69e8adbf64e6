"""Packaging: setup.cfg holds the metadata; this file adds the committed language models to the wheel.

The artifacts live in the repository's ``pretrained/`` (beside their
checksummed manifest), outside the ``zoo`` package. ``build_py`` copies them
into the built package as ``zoo/_pretrained``, where
``zoo.transfer.pretrained.pretrained_dir`` finds them after a plain
``pip install .``; a source checkout or an editable install reads
``pretrained/`` directly.
"""

import os
import shutil

from setuptools import setup
from setuptools.command.build_py import build_py

HERE = os.path.dirname(os.path.abspath(__file__))


class BuildWithPretrained(build_py):
    def run(self):
        super().run()
        source = os.path.join(HERE, "pretrained")
        if not self.dry_run and os.path.isdir(source):
            target = os.path.join(self.build_lib, "zoo", "_pretrained")
            shutil.rmtree(target, ignore_errors=True)
            shutil.copytree(source, target)


setup(cmdclass={"build_py": BuildWithPretrained})
