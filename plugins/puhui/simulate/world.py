"""The simulated world every source writer draws from: the county and its population.

A writer module exposes ``write_day(world, out, day, initial) -> list[WrittenFile]`` (the
files of one business date; ``initial`` on the first date of a run) and may expose
``finish(world, out, start, end)`` for sources that are not daily files (the e-banking
database). Writers draw random numbers only from ``world.rng(stream, *key)``, a generator
seeded by the world's seed and a stream number of the writer's own, so adding a writer
never changes another writer's output.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property

import numpy as np

from puhui.simulate.county import County
from puhui.simulate.population import Population

# Stream numbers already taken (county 1-2, population 3-6). A new writer takes a new block.
STREAMS = {
    "county": (1, 2),
    "population": (3, 6),
    "bank_network": (100, 199),
    "lending": (200, 299),
    "deposits": (300, 399),
    "ebanking": (400, 499),
    "agency": (500, 599),
    "defects": (900, 999),
}


@dataclass
class World:
    seed: int
    scale: float

    @cached_property
    def county(self) -> County:
        return County(seed=self.seed, scale=self.scale)

    @cached_property
    def population(self) -> Population:
        return Population(self.county)

    def rng(self, stream: int, *key: int) -> np.random.Generator:
        """A generator for ``stream`` (and e.g. a day number): same inputs, same numbers."""
        return np.random.default_rng([self.seed, stream, *key])
