"""Folium layers built from geo/ results (no Flask): base map with local assets, communes, incidents, legend."""
