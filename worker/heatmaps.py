"""An item's heatmap: the class-activation map of its category (vision.cam), stored as a PNG."""

import io

from django.core.files.base import ContentFile

from vision.cam import compact
from vision.catalogue import format_path

from .listings import category_at


def attach_heatmap(item, categorizer, result, crop_box):
    """The class-activation map of the item's category, as a PNG overlay of its crop and raw."""
    heatmap = categorizer.heatmap(result, crop_box)
    if heatmap is None:
        return
    explanation, overlay = heatmap
    buffer = io.BytesIO()
    overlay.save(buffer, "PNG")
    item.heatmap.save("heatmap.png", ContentFile(buffer.getvalue()), save=False)
    item.heatmap_category = format_path(explanation.category)
    item.heatmap_of = category_at(explanation.category)
    item.activation = compact(explanation.activation)
