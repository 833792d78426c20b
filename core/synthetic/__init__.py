"""Synthetic performers: a procedural human, scripted actions, a depth renderer and scenes of 1-3 people.

Why it exists: the demo must run with no sensor attached, tests need realistic skeleton-and-depth streams
without shipping dataset files (the dataset terms forbid copying them into the repository), and benchmarks
need a source that can be made as heavy as wanted. Everything it produces is marked synthetic (`Source.synthetic`)
so it can never be mistaken for, or mixed into, real evaluation numbers.

Layers, each usable alone: `skeleton` (joint angles -> canonical joints), `actions` and `library` (scripted
movements shaped after the UTD-MHAD and MSR Action3D classes, with per-performance variation), `render`
(capsule bodies -> Kinect-like depth images), `scene` (people + script + camera -> frames with ground truth).
"""
