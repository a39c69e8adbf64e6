"""Renders a run's ``report.html`` to a PNG with headless Chromium, so a reader of the docs sees what a user sees.

    apt-get install chromium                # Debian's package: /usr/bin/chromium
    python bench/render_html_report.py /tmp/runs/sms docs/report-html-sms.png

Chromium gets no network (the page is self-contained: nothing to fetch) and a
fresh profile; the window is tall enough for the whole page, and the empty
rows below the page are cut off the screenshot, which is saved with a 256-colour palette.
"""

import argparse
import os
import shutil
import subprocess
import sys
import tempfile

import numpy as np
from PIL import Image  # (Pillow: a dependency of matplotlib)

FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync", "--hide-scrollbars"]


def render(page, png, width=1200, height=7000, browser="chromium"):
    """Screenshots ``page`` (an HTML file) into ``png``, cropped to the page's height."""
    executable = shutil.which(browser)
    if executable is None:
        raise SystemExit(f"error: no {browser} on PATH (Debian: apt-get install chromium)")
    with tempfile.TemporaryDirectory() as profile:
        shot = os.path.join(profile, "shot.png")
        subprocess.run([executable, *FLAGS, f"--user-data-dir={profile}", f"--window-size={width},{height}",
                        f"--screenshot={shot}", "file://" + os.path.abspath(page)], check=True,
                       capture_output=True, timeout=120)
        with Image.open(shot) as image:
            image = image.convert("RGB")
    rows = np.flatnonzero((np.asarray(image) < 250).any(axis=(1, 2)))  # the last row that is not blank
    image = image.crop((0, 0, width, min(height, rows[-1] + 24) if len(rows) else height))
    image.quantize(colors=256).save(png, optimize=True)  # a palette: a fraction of the size, no visible change
    return png


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("run_dir", help="a zoo train run folder (with report.html)")
    parser.add_argument("png", help="where to write the screenshot")
    args = parser.parse_args(argv)
    page = os.path.join(args.run_dir, "report.html")
    if not os.path.isfile(page):
        raise SystemExit(f"error: {page}: no such file (runs of zoo 0.4 and later write it)")
    print(render(page, args.png))


if __name__ == "__main__":
    sys.exit(main())
