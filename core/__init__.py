"""The ground layer: what every app may import and which imports no app."""
