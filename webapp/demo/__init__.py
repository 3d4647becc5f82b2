"""Demo data: a generated subdistrict (城阳街道), replicable into a city for load tests.

``layout`` generates rows without a database; ``load`` copies them into PostGIS.
"""
