"""The demo district (modelled on Yuecheng District, Shaoxing) and the city-scale data, from a seed."""
