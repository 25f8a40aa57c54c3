"""Mask providers combined (minimum) with every swapper's paste mask: regions of the target to keep (mouth,
lips, eyes from the face mesh), a padded box, an occlusion model, and a face parser's chosen regions."""
