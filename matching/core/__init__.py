"""The pure ranking core: numpy and scikit-learn over plain arrays, no Django import."""
