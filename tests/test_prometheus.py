"""The small Prometheus text exporter the intake and the codec server use."""

from __future__ import annotations

import pytest

from runtime.prometheus import Registry


def test_counters_render_in_the_text_format_with_escaped_labels() -> None:
    registry = Registry()
    plain = registry.counter("x_total", "Plain")
    labelled = registry.counter("y_total", 'Help with "quotes"\nand a newline', ("status",))
    plain.inc()
    plain.inc(2)
    labelled.inc(status='a"b\\c\nd')
    labelled.inc(status="200")
    assert registry.render() == (
        "# HELP x_total Plain\n# TYPE x_total counter\nx_total 3\n"
        '# HELP y_total Help with "quotes"\\nand a newline\n# TYPE y_total counter\n'
        'y_total{status="200"} 1\n'
        'y_total{status="a\\"b\\\\c\\nd"} 1\n'
    )
    assert labelled.value(status="200") == 1 and labelled.value(status="404") == 0


def test_misuse_is_refused() -> None:
    registry = Registry()
    counter = registry.counter("z_total", "Z", ("status",))
    with pytest.raises(ValueError, match="takes labels"):
        counter.inc(code="1")
    with pytest.raises(ValueError, match="only goes up"):
        counter.inc(-1, status="1")
    with pytest.raises(ValueError, match="already registered"):
        registry.counter("z_total", "again")
