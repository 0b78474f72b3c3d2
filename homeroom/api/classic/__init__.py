"""The classic School Data Sync API (educationSynchronizationProfile and its file verification), as Graph answers it."""
