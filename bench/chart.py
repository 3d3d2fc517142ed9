"""A PNG bar chart of the results table, drawn with Pillow (already a dependency)."""

from PIL import Image, ImageDraw, ImageFont

WIDTH, ROW_HEIGHT, LABEL_WIDTH, MARGIN = 1100, 30, 330, 20
COLOURS = {"cached": (52, 120, 198), "uncached": (214, 120, 40), "baseline": (120, 120, 120)}


def bar_chart(rows, path, title):
    """One bar per row: requests/s, with p99 latency and the ratio to the floor as labels."""
    font = ImageFont.load_default(size=14)
    height = MARGIN * 3 + ROW_HEIGHT * (len(rows) + 2)
    image = Image.new("RGB", (WIDTH, height), "white")
    draw = ImageDraw.Draw(image)
    draw.text((MARGIN, MARGIN), title, fill="black", font=ImageFont.load_default(size=18))
    top = MARGIN * 2 + ROW_HEIGHT
    scale_width = WIDTH - LABEL_WIDTH - MARGIN - 230
    peak = max((row["rps"] for row in rows), default=1) or 1
    for index, row in enumerate(rows):
        y = top + index * ROW_HEIGHT
        draw.text((MARGIN, y + 6), row["label"], fill="black", font=font)
        length = max(1, int(scale_width * row["rps"] / peak))
        colour = COLOURS.get(row["server"], (90, 90, 90))
        draw.rectangle([LABEL_WIDTH, y + 4, LABEL_WIDTH + length, y + ROW_HEIGHT - 4], fill=colour)
        ratio = f"  {row['ratio']:.0%} of floor" if row.get("ratio") is not None else ""
        note = f"{row['rps']:,.0f} req/s  p99 {row['p99_ms']:.1f} ms{ratio}"
        draw.text((LABEL_WIDTH + length + 8, y + 6), note, fill="black", font=font)
    legend_x = MARGIN
    legend_y = height - MARGIN - 4
    for server, colour in COLOURS.items():
        draw.rectangle([legend_x, legend_y - 10, legend_x + 14, legend_y + 2], fill=colour)
        draw.text((legend_x + 20, legend_y - 12), server, fill="black", font=font)
        legend_x += 130
    image.save(path)
