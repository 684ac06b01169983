#!/usr/bin/env python3
"""html2pdf.py DECK.html DECK.pdf - print a deck Marp rendered to HTML as a
PDF of one 1280x720 page per slide, in Qt WebEngine.

The PDF route on Ubuntu (slides/Makefile): there the chromium package is a
snap, which does not run in a chroot, a container or without snapd, so
Marp CLI cannot start it.  Qt WebEngine is Chromium's engine too, packaged
as a deb (python3-pyqt6.qtwebengine); the HTML's print style sheet puts
one slide on each page.  No network: the page is a local file.
"""
import sys

from PyQt6.QtCore import QMarginsF, QSizeF, QTimer, QUrl
from PyQt6.QtGui import QPageLayout, QPageSize
from PyQt6.QtWebEngineCore import QWebEnginePage
from PyQt6.QtWidgets import QApplication

if len(sys.argv) != 3:
    sys.exit("usage: html2pdf.py DECK.html DECK.pdf")
src, out = sys.argv[1], sys.argv[2]
app = QApplication(sys.argv[:1])
page = QWebEnginePage()


def printed(path, ok):
    if not ok:
        print(f"html2pdf: {out}: printing failed", file=sys.stderr)
    app.exit(0 if ok else 1)


def loaded(ok):
    if not ok:
        print(f"html2pdf: {src}: cannot load it", file=sys.stderr)
        app.exit(1)
        return
    # 1280x720 CSS pixels = 960x540 points, no margin: Marp's slide size.
    size = QPageSize(QSizeF(960, 540), QPageSize.Unit.Point, "slide",
                     QPageSize.SizeMatchPolicy.ExactMatch)
    layout = QPageLayout(size, QPageLayout.Orientation.Portrait, QMarginsF(0, 0, 0, 0))
    # loadFinished comes with the page's diagrams loaded; a second more
    # for Marp's script to fit the slides.
    QTimer.singleShot(1000, lambda: page.printToPdf(out, layout))


page.pdfPrintingFinished.connect(printed)
page.loadFinished.connect(loaded)
page.load(QUrl.fromLocalFile(src))
sys.exit(app.exec())
