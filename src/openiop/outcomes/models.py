"""Outcome measures are `intake.MeasureResponse` rows (the measure store sits with the
instruments and safety tasks); outcomes reads them over an episode and has no models."""
