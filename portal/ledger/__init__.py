"""The receivables ledger: creditor entities, debtors, invoices, payments, credit notes, aging."""
