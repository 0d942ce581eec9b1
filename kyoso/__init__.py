"""kyoso (共創): a co-creation platform for Japan's government staff."""
