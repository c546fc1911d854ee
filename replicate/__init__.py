"""replicate: a reproducible replication suite for five spatiotemporal-ConvNet papers.

Subpackages: ``replicate.data`` (synthetic and real video datasets, clip sampling, optical
flow), ``replicate.models`` (model registry). See README.md and DESIGN notes.
"""

__version__ = "0.1.0"
