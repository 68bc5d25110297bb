"""Body maps and image occlusion: the map spec as authors write it, the atlas of outlines and
landmarks, the muscles, label layout, the SVG drawing, and occlusion masks over a map or an
author's picture."""
