"""Shared test set-up: Qt runs offscreen, torch stays on few threads so the suite fits 2 cores."""
import os

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
os.environ.setdefault("OMP_NUM_THREADS", "1")
