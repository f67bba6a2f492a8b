"""Front doors: each turns the custom resources of one API group into the internal model, nothing more."""
