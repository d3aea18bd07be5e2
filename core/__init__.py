"""The ground every app may build on; it imports no app of the project."""
