"""The district's buildings, floorspace, enterprises, leads, promoters, agencies and plan indicators."""
