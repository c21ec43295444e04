/* placeholder.c - keeps the nic library non-empty until its modules land */
int nic_placeholder_unused;
