"""Spatial core of Bản đồ 138: pure functions on GeoDataFrames, numpy arrays and plain values.

No Flask, no Folium and no database session may be imported here.
"""
