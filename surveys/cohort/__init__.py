"""The cohort: participants a study enrolled, their stored baselines and appointments
(importer), referral figures per site (referrals), and counts at a glance (status)."""
