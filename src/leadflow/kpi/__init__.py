"""Lead KPIs (issue 6): leads generated, quality, conversion, cost, time to convert, speed to lead."""
