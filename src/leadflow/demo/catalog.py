"""The fixed world of the demo workspace: Northwind Analytics, its team, campaigns, forms and vocabularies.

Everything here is data; generator.py draws from it. Weights are relative (normalized where used).
"""

from __future__ import annotations

from dataclasses import dataclass

COMPANY_NAME = "Northwind Analytics"
SITE = "https://northwind-analytics.com"

# create_user validates addresses and refuses special-use domains such as .local and .test;
# example.com is reserved for documentation (RFC 2606), so it can never reach a real inbox.
USER_DOMAIN = "demo.example.com"
ADMIN_EMAIL = f"admin@{USER_DOMAIN}"
# A fixed, printed password is fine for a local demo; it is never used outside the demo data.
DEMO_PASSWORD = "leadflow-demo"


@dataclass(frozen=True, slots=True)
class DemoUser:
    email: str
    name: str
    role: str


USERS: tuple[DemoUser, ...] = (
    DemoUser(ADMIN_EMAIL, "Alex Admin", "admin"),
    DemoUser(f"sofia.marketing@{USER_DOMAIN}", "Sofía Marín", "marketing"),
    DemoUser(f"tom.marketing@{USER_DOMAIN}", "Tom Becker", "marketing"),
    DemoUser(f"olivia.sales@{USER_DOMAIN}", "Olivia Grant", "sales"),
    DemoUser(f"diego.sales@{USER_DOMAIN}", "Diego Fernández", "sales"),
    DemoUser(f"priya.sales@{USER_DOMAIN}", "Priya Raman", "sales"),
    DemoUser(f"marcus.sales@{USER_DOMAIN}", "Marcus Lee", "sales"),
    DemoUser(f"lucia.sales@{USER_DOMAIN}", "Lucía Torres", "sales"),
)
SALES_REPS = tuple(u for u in USERS if u.role == "sales")
MARKETERS = tuple(u for u in USERS if u.role == "marketing")
# Top performers carry more of the pipeline, as on any real team.
SALES_REP_WEIGHTS = (0.26, 0.22, 0.20, 0.18, 0.14)

# Spend patterns of campaign_spend rows.
DAILY = "daily"  # every day, around daily_spend, lower at weekends
MONTHLY = "monthly"  # on the first of each month: tools, writers, referral gifts
EVENTS = "events"  # lump sums on event days (trade shows, webinars)


@dataclass(frozen=True, slots=True)
class Source:
    """Where a lead comes from: a campaign, or direct traffic (is_campaign False)."""

    name: str
    channel: str
    utm_source: str | None
    utm_medium: str | None
    utm_campaign: str | None
    landing_page: str
    weight: float  # share of all leads
    spend: str = MONTHLY
    spend_amount: float = 0.0  # per day (DAILY), per month (MONTHLY) or per event (EVENTS)
    starts_days_ago: int = 365
    ends_days_ago: int = 0
    event_days_ago: tuple[int, ...] = ()
    event_length_days: int = 1
    referrer: str | None = None
    terms: tuple[str, ...] = ()
    contents: tuple[str, ...] = ()
    # Relative weights of the forms (FORMS order) a lead from this source filled in; empty = imported.
    forms: tuple[float, ...] = ()
    description: str = ""
    is_campaign: bool = True


# Monthly webinars (English) and quarterly ones (Spanish), as days before "now".
_WEBINAR_DAYS = tuple(range(350, 0, -28))
_WEBINAR_ES_DAYS = (330, 240, 150, 60)

#              request-demo, ebook, webinar, newsletter, solicitar-demo, webinar-es
SOURCES: tuple[Source, ...] = (
    Source("SEO content hub", "organic_search", "google", "organic", "content-hub", f"{SITE}/blog",
           0.22, MONTHLY, 350.0, referrer="https://www.google.com/", forms=(0.3, 0.35, 0, 0.35, 0, 0),
           description="Blog and guides; spend is the SEO tooling."),
    Source("Google Ads - Brand", "paid_search", "google", "cpc", "brand-search", f"{SITE}/",
           0.05, DAILY, 120.0, terms=("northwind analytics", "northwind dashboards"),
           contents=("rsa-brand-a", "rsa-brand-b"), forms=(0.7, 0.3, 0, 0, 0, 0)),
    Source("Google Ads - Analytics software", "paid_search", "google", "cpc", "generic-analytics-software",
           f"{SITE}/lp/analytics-software", 0.10, DAILY, 450.0,
           terms=("b2b analytics software", "revenue dashboard tool", "marketing analytics platform",
                  "saas metrics dashboard"),
           contents=("rsa-generic-a", "rsa-generic-b", "rsa-generic-c"), forms=(0.55, 0.45, 0, 0, 0, 0)),
    Source("Google Ads - LatAm (ES)", "paid_search", "google", "cpc", "latam-analitica-es",
           f"{SITE}/es/lp/analitica", 0.03, DAILY, 150.0, starts_days_ago=200,
           terms=("software de analítica", "dashboard de ventas", "analítica b2b"),
           contents=("rsa-es-a", "rsa-es-b"), forms=(0, 0.2, 0, 0, 0.8, 0),
           description="Spanish-language search in Mexico, Colombia, Chile, Argentina and Peru."),
    Source("LinkedIn organic", "social", "linkedin", "social", "linkedin-organic", f"{SITE}/blog",
           0.07, MONTHLY, 40.0, referrer="https://www.linkedin.com/", forms=(0.2, 0.5, 0, 0.3, 0, 0),
           description="Company page posts; spend is the scheduling tool."),
    Source("LinkedIn Ads - ABM", "paid_social", "linkedin", "paid_social", "linkedin-abm",
           f"{SITE}/lp/revenue-analytics", 0.05, DAILY, 300.0, referrer="https://www.linkedin.com/",
           contents=("carousel-roi", "video-demo"), forms=(0.4, 0.6, 0, 0, 0, 0)),
    Source("Meta Ads - Ebook", "paid_social", "facebook", "paid_social", "meta-ebook-lead-gen",
           f"{SITE}/lp/ebook-state-of-b2b-analytics", 0.06, DAILY, 180.0,
           referrer="https://www.facebook.com/", contents=("ebook-static", "ebook-video"),
           forms=(0, 1, 0, 0, 0, 0)),
    Source("Monthly newsletter", "email", "newsletter", "email", "monthly-newsletter",
           f"{SITE}/newsletter", 0.05, MONTHLY, 200.0, forms=(0.5, 0.5, 0, 0, 0, 0),
           description="Forwarded and shared issues; spend is the email service."),
    Source("Nurture: ebook to demo", "email", "nurture", "email", "nurture-ebook-demo",
           f"{SITE}/demo", 0.02, MONTHLY, 100.0, forms=(1, 0, 0, 0, 0, 0)),
    Source("Webinar series: dashboards that drive revenue", "webinar", "webinar", "webinar",
           "webinar-dashboards-revenue", f"{SITE}/webinars", 0.07, EVENTS, 650.0,
           event_days_ago=_WEBINAR_DAYS, forms=(0, 0, 1, 0, 0, 0)),
    Source("Webinar: analítica para equipos de ventas (ES)", "webinar", "webinar", "webinar",
           "webinar-analitica-ventas-es", f"{SITE}/es/webinars", 0.02, EVENTS, 400.0,
           event_days_ago=_WEBINAR_ES_DAYS, forms=(0, 0, 0, 0, 0, 1)),
    Source("SaaStr Annual", "trade_show", "saastr", "trade_show", "saastr-annual", f"{SITE}/events",
           0.025, EVENTS, 38000.0, event_days_ago=(255,), event_length_days=3,
           description="Booth, badge scanner and travel."),
    Source("B2B Marketing Expo London", "trade_show", "b2b-expo", "trade_show", "b2b-marketing-expo-london",
           f"{SITE}/events", 0.02, EVENTS, 21000.0, event_days_ago=(140,), event_length_days=2),
    Source("Web Summit", "trade_show", "websummit", "trade_show", "web-summit", f"{SITE}/events",
           0.025, EVENTS, 32000.0, event_days_ago=(40,), event_length_days=3),
    Source("Partner referrals", "referral", "partners", "referral", "partner-program", f"{SITE}/partners",
           0.04, MONTHLY, 150.0, referrer="https://www.brightpath-consulting.com/",
           forms=(1, 0, 0, 0, 0, 0), description="Implementation partners; spend is the partner portal."),
    Source("Customer referrals", "referral", "customers", "referral", "customer-referral", f"{SITE}/refer",
           0.03, MONTHLY, 120.0, forms=(1, 0, 0, 0, 0, 0), description="Gift cards for referring customers."),
    Source("Direct", "direct", None, None, None, f"{SITE}/", 0.125, forms=(0.6, 0, 0, 0.4, 0, 0),
           is_campaign=False),
)

FORM_LANG_EN = "en"
FORM_LANG_ES = "es"


@dataclass(frozen=True, slots=True)
class FormSpec:
    slug: str
    name: str
    language: str
    campaign: str | None
    fields: tuple[dict, ...]  # capture.schemas.FormField shape
    success_message: str
    consent_text: str


def _field(key: str, label: str = "", *, type_: str | None = None, required: bool = False,
           options: tuple[str, ...] = ()) -> dict:
    out = {"key": key, "type": type_ or key, "required": required, "label": label}
    if options:
        out["options"] = list(options)
    return out


COMPANY_SIZES = ("1-10", "11-50", "51-200", "201-1000", "1001-5000", "5000+")
_EMAIL = _field("email", "Work email", required=True)
_CONSENT_EN = "Send me product news and invitations"
_CONSENT_ES = "Quiero recibir novedades"

FORMS: tuple[FormSpec, ...] = (
    FormSpec("request-demo", "Request a demo", FORM_LANG_EN, None, (
        _EMAIL, _field("first_name", required=True), _field("last_name", required=True),
        _field("company_name"), _field("job_title"), _field("company_size"), _field("phone")),
        "Thanks! A specialist will contact you within one business day.", _CONSENT_EN),
    FormSpec("ebook-state-of-b2b-analytics", "Ebook: The state of B2B analytics", FORM_LANG_EN,
             "Meta Ads - Ebook", (_EMAIL, _field("first_name", required=True), _field("company_name"),
                                  _field("job_title")), "Your ebook is on its way to your inbox.", _CONSENT_EN),
    FormSpec("webinar-registration", "Webinar registration", FORM_LANG_EN,
             "Webinar series: dashboards that drive revenue",
             (_EMAIL, _field("first_name", required=True), _field("last_name", required=True),
              _field("company_name"), _field("job_title")), "You're registered. See you there!", _CONSENT_EN),
    FormSpec("newsletter", "Newsletter signup", FORM_LANG_EN, "Monthly newsletter",
             (_EMAIL,), "Subscribed. The next issue arrives on the first Tuesday of the month.", _CONSENT_EN),
    FormSpec("solicitar-demo", "Solicitar una demo", FORM_LANG_ES, "Google Ads - LatAm (ES)", (
        _field("email", "Correo corporativo", required=True), _field("first_name", required=True),
        _field("last_name", required=True), _field("company_name"), _field("job_title"),
        _field("phone")), "¡Gracias! Te contactaremos en un día hábil.", _CONSENT_ES),
    FormSpec("webinar-es", "Registro al webinar", FORM_LANG_ES, "Webinar: analítica para equipos de ventas (ES)", (
        _field("email", "Correo corporativo", required=True), _field("first_name", required=True),
        _field("company_name"), _field("job_title")), "¡Registro confirmado!", _CONSENT_ES),
)
FORM_REQUEST_DEMO, FORM_SOLICITAR_DEMO = 0, 4
# Consent text version shown on every form this year.
CONSENT_TEXT_VERSION = "2026-01"

# Countries of leads (ISO 3166-1 alpha-2), calling code, national number length and weight.
COUNTRIES: tuple[tuple[str, str, int, float, bool], ...] = (
    # code, calling code, national digits, weight, spanish-speaking
    ("US", "1", 10, 0.34, False), ("GB", "44", 10, 0.08, False), ("CA", "1", 10, 0.05, False),
    ("DE", "49", 10, 0.05, False), ("FR", "33", 9, 0.03, False), ("NL", "31", 9, 0.03, False),
    ("AU", "61", 9, 0.04, False), ("IN", "91", 10, 0.04, False), ("IE", "353", 9, 0.02, False),
    ("SE", "46", 9, 0.02, False), ("ES", "34", 9, 0.09, True), ("MX", "52", 10, 0.08, True),
    ("AR", "54", 10, 0.03, True), ("CO", "57", 10, 0.04, True), ("CL", "56", 9, 0.03, True),
    ("PE", "51", 9, 0.02, True),
)
CITIES: dict[str, tuple[str, ...]] = {
    "US": ("New York", "San Francisco", "Austin", "Chicago", "Boston", "Seattle", "Miami"),
    "GB": ("London", "Manchester", "Edinburgh", "Bristol"), "CA": ("Toronto", "Vancouver", "Montreal"),
    "DE": ("Berlin", "Munich", "Hamburg"), "FR": ("Paris", "Lyon"), "NL": ("Amsterdam", "Rotterdam"),
    "AU": ("Sydney", "Melbourne"), "IN": ("Bengaluru", "Mumbai", "Pune"), "IE": ("Dublin", "Cork"),
    "SE": ("Stockholm", "Gothenburg"), "ES": ("Madrid", "Barcelona", "Valencia", "Sevilla", "Bilbao"),
    "MX": ("Ciudad de México", "Monterrey", "Guadalajara"), "AR": ("Buenos Aires", "Córdoba", "Rosario"),
    "CO": ("Bogotá", "Medellín", "Cali"), "CL": ("Santiago", "Valparaíso"), "PE": ("Lima", "Arequipa"),
}
# Share of leads from Spanish-speaking countries with Spanish names, and elsewhere (e.g. US Hispanics).
SPANISH_NAME_SHARE = (0.07, 0.92)

FIRST_NAMES_EN = (
    "James", "Mary", "John", "Patricia", "Robert", "Jennifer", "Michael", "Linda", "William", "Elizabeth",
    "David", "Barbara", "Richard", "Susan", "Joseph", "Jessica", "Thomas", "Sarah", "Chris", "Karen",
    "Daniel", "Nancy", "Matthew", "Lisa", "Anthony", "Emily", "Mark", "Maria", "Steven", "Michelle",
    "Paul", "Amanda", "Andrew", "Melissa", "Josh", "Laura", "Kevin", "Rachel", "Brian", "Olivia",
    "George", "Emma", "Ryan", "Sophie", "Jacob", "Hannah", "Liam", "Charlotte", "Noah", "Grace",
    "Ethan", "Chloe", "Lukas", "Anna", "Jan", "Lea", "Pierre", "Camille", "Arjun", "Priya",
    "Rahul", "Ananya", "Sven", "Astrid", "Sean", "Aoife",
)
FIRST_NAMES_ES = (
    "María", "José", "Juan", "Ana", "Carlos", "Lucía", "Javier", "Carmen", "Luis", "Laura",
    "Miguel", "Marta", "Alejandro", "Sofía", "Diego", "Valentina", "Pablo", "Camila", "Andrés", "Isabel",
    "Jorge", "Paula", "Fernando", "Elena", "Sergio", "Daniela", "Manuel", "Gabriela", "Ricardo", "Mariana",
    "Santiago", "Natalia", "Mateo", "Julia", "Martín", "Ximena", "Rodrigo", "Florencia", "Tomás", "Renata",
    "María José", "Juan Pablo", "Maria",
)
LAST_NAMES_EN = (
    "Smith", "Johnson", "Williams", "Brown", "Jones", "Miller", "Davis", "Wilson", "Anderson", "Taylor",
    "Thomas", "Moore", "Jackson", "Martin", "Lee", "Thompson", "White", "Harris", "Clark", "Lewis",
    "Robinson", "Walker", "Young", "Allen", "King", "Wright", "Scott", "Green", "Baker", "Adams",
    "Nelson", "Hill", "Campbell", "Mitchell", "Roberts", "Carter", "Phillips", "Evans", "Turner", "Parker",
    "Collins", "Edwards", "Stewart", "Murphy", "Cook", "Rogers", "Morgan", "Cooper", "Peterson", "Reed",
    "Müller", "Schmidt", "Schneider", "Fischer", "Dubois", "Moreau", "de Vries", "Jansen", "Patel", "Sharma",
    "Singh", "Iyer", "Andersson", "Johansson", "O'Brien", "Kelly", "Nguyen", "Chen", "Wang", "Kim",
)
LAST_NAMES_ES = (
    "García", "Rodríguez", "González", "Fernández", "López", "Martínez", "Sánchez", "Pérez", "Gómez", "Martín",
    "Jiménez", "Ruiz", "Hernández", "Díaz", "Moreno", "Muñoz", "Álvarez", "Romero", "Alonso", "Gutiérrez",
    "Navarro", "Torres", "Domínguez", "Vázquez", "Ramos", "Gil", "Ramírez", "Serrano", "Blanco", "Molina",
    "Castro", "Ortiz", "Rubio", "Marín", "Sanz", "Núñez", "Iglesias", "Medina", "Garrido", "Cortés",
    "Rojas", "Vargas", "Silva", "Flores", "Castillo", "Herrera", "Mendoza", "Aguilar", "Reyes", "Cruz",
)

# Seniority levels, best fit first; FIT_POINTS_SENIORITY says how much each is worth.
SENIORITIES = ("c_level", "vp", "director", "manager", "individual", "student")
TITLES_EN: tuple[tuple[str, ...], ...] = (
    ("CEO", "CTO", "CFO", "COO", "Chief Marketing Officer", "Chief Data Officer", "Co-founder"),
    ("VP of Marketing", "VP Sales", "VP of Engineering", "VP Data & Analytics", "VP Operations",
     "VP Revenue Operations"),
    ("Director of Marketing", "Head of Growth", "Director of Analytics", "Head of Data",
     "Director of Revenue Operations", "Head of Business Intelligence", "Sales Director"),
    ("Marketing Manager", "Analytics Manager", "BI Manager", "Sales Operations Manager", "Product Manager",
     "Data Engineering Manager", "Demand Generation Manager"),
    ("Data Analyst", "Marketing Specialist", "Business Analyst", "Data Engineer", "Software Engineer",
     "Growth Marketer", "Consultant", "Account Executive", "Marketing Coordinator"),
    ("Student", "Intern", "MBA Candidate", "Graduate Student"),
)
TITLES_ES: tuple[tuple[str, ...], ...] = (
    ("Director General", "CEO", "Director Financiero", "Cofundador", "Director de Tecnología"),
    ("Vicepresidente de Ventas", "VP de Marketing", "Vicepresidenta de Operaciones"),
    ("Director de Marketing", "Directora Comercial", "Jefe de Analítica", "Responsable de BI",
     "Director de Datos"),
    ("Gerente de Marketing", "Gerente de Analítica", "Jefa de Producto", "Coordinador Comercial",
     "Gerente de Operaciones de Ventas"),
    ("Analista de Datos", "Analista de Negocio", "Ingeniero de Datos", "Especialista en Marketing",
     "Consultor", "Ejecutivo de Cuentas"),
    ("Estudiante", "Becario", "Estudiante de MBA"),
)
# Spanish-speaking leads write their title in Spanish this often.
SPANISH_TITLE_SHARE = 0.6

INDUSTRIES = (
    "Software", "Financial Services", "E-commerce & Retail", "Healthcare",  # the ideal customer profile
    "Manufacturing", "Professional Services", "Media & Publishing", "Logistics", "Telecommunications",
    "Education", "Government", "Non-profit",
)
INDUSTRY_WEIGHTS = (0.17, 0.1, 0.11, 0.07, 0.11, 0.1, 0.06, 0.06, 0.05, 0.08, 0.05, 0.04)
TARGET_INDUSTRIES = 4  # the first four industries are the ideal customer profile
SIZE_WEIGHTS = (0.14, 0.22, 0.24, 0.2, 0.12, 0.08)
TARGET_SIZES = (2, 3)  # 51-200 and 201-1000 employees
# Bigger companies sign bigger contracts (multiplies the median deal).
DEAL_SIZE_FACTOR = (0.45, 0.65, 1.0, 1.4, 2.1, 3.0)

COMPANY_WORDS_A = (
    "Acme", "Globex", "Initech", "Umbrella", "Stark", "Wayne", "Wonka", "Hooli", "Vandelay", "Soylent",
    "Cyberdyne", "Tyrell", "Aperture", "Oscorp", "Gringotts", "Monarch", "Pied Piper", "Massive", "Nakatomi",
    "Blue Harbor", "Red Rock", "Silver Lake", "Northstar", "Southwind", "Evergreen", "Bluebird", "Ironclad",
    "Brightline", "Clearview", "Summit", "Pinnacle", "Horizon", "Keystone", "Lighthouse", "Meridian",
    "Redwood", "Sequoia", "Cedar", "Granite", "Cobalt", "Crimson", "Golden Gate", "Harbor", "Maple",
    "Oakridge", "Pioneer", "Quantum", "Riverstone", "Sapphire", "Trident", "Vertex", "Zenith", "Atlas",
    "Beacon", "Catalyst", "Delta", "Echo", "Falcon", "Gemini", "Helix", "Ion", "Juniper", "Kestrel",
    "Lumen", "Mosaic", "Nimbus", "Orbit", "Polaris", "Quasar", "Radiant", "Sierra", "Titan", "Unity",
    "Vanguard", "Willow", "Xenon", "Yellowstone", "Zephyr", "Andes", "Sol", "Luna", "Cóndor", "Pampa",
    "Tierra", "Mar Azul", "Aurora", "Brisa", "Cumbre", "Faro", "Roble", "Olivo", "Alborada", "Nexo",
    "Ámbar", "Cristal", "Lince", "Quetzal", "Jaguar", "Colibrí", "Volcán", "Caribe", "Sierra Nevada",
    "Alpine", "Arcadia", "Bastion", "Cascade", "Dynamo", "Elevate", "Fjord", "Glacier", "Highland",
    "Inland", "Jetstream", "Kinetic", "Landmark", "Momentum", "Nova", "Optima", "Paragon", "Quarry",
    "Rally", "Signal", "Tandem", "Upland", "Velocity", "Waypoint", "Yukon", "Zest", "Anchor", "Bolt",
    "Compass", "Drift", "Ember", "Forge", "Grove", "Hearth", "Insight", "Jade", "Knot", "Ledger",
)
COMPANY_WORDS_B = (
    "Labs", "Systems", "Software", "Analytics", "Health", "Bank", "Capital", "Retail", "Logistics", "Media",
    "Foods", "Energy", "Robotics", "Networks", "Cloud", "Data", "Pharma", "Insurance", "Consulting", "Studios",
    "Telecom", "Motors", "Supply", "Payments", "Learning", "Security", "Biotech", "Markets", "Travel", "Homes",
    "Apparel", "Partners", "Industries", "Technologies", "Digital", "Ventures", "Works", "Solutions", "Group",
    "Holdings", "Tecnología", "Soluciones", "Consultores", "Servicios", "Comercial", "Financiera", "Salud",
    "Logística", "Alimentos", "Seguros",
)
COMPANY_QUALIFIERS = (
    "", "Inc", "Corp", "Ltd", "LLC", "GmbH", "SA", "SL", "S.A. de C.V.", "International", "Global",
    "Europe", "Iberia", "LatAm", "North America", "Americas", "UK", "Group", "Co", "Holdings",
)
COMPANY_TLDS = (".com", ".io", ".co", ".net", ".ai", ".es", ".mx", ".co.uk", ".de", ".com.ar")

FREE_EMAIL_DOMAINS = ("gmail.com", "gmail.com", "gmail.com", "outlook.com", "hotmail.com", "yahoo.com",
                      "icloud.com", "proton.me", "hotmail.es", "yahoo.es")

# Loss reasons of disqualified leads (leads.lost_reason).
LOST_REASONS = ("budget", "no authority", "competitor", "no need", "bad timing", "student/spam")
RECYCLE_REASONS = ("bad timing: revisit next quarter", "went quiet after the first call",
                   "no activity for 60 days", "champion left the company")

# Page views: (url, title, kind) where kind marks buying intent or the careers page.
PAGES: tuple[tuple[str, str], ...] = (
    ("/", "Northwind Analytics: revenue analytics for B2B teams"),
    ("/product", "Product tour"),
    ("/product/dashboards", "Dashboards"),
    ("/product/attribution", "Multi-touch attribution"),
    ("/integrations", "Integrations: Salesforce, HubSpot, Snowflake"),
    ("/customers", "Customer stories"),
    ("/blog/what-is-a-good-conversion-rate", "What is a good B2B conversion rate?"),
    ("/blog/cost-per-lead-benchmarks", "Cost per lead benchmarks 2026"),
    ("/blog/lead-scoring-101", "Lead scoring 101"),
    ("/blog/bant-qualification", "BANT qualification, explained"),
    ("/blog/pipeline-forecasting", "Pipeline forecasting without spreadsheets"),
    ("/es/blog/embudo-de-ventas", "Cómo medir tu embudo de ventas"),
    ("/security", "Security and compliance"),
    ("/about", "About us"),
)
PRICING_PAGE = ("/pricing", "Pricing")
DEMO_PAGE = ("/demo", "Book a demo")
CAREERS_PAGE = ("/careers", "Careers at Northwind")
ASSETS = ("ebook-state-of-b2b-analytics", "roi-calculator", "whitepaper-data-governance",
          "case-study-acme-retail", "template-kpi-dashboard", "checklist-lead-qualification")
EMAILS = ("newsletter-monthly", "nurture-1-welcome", "nurture-2-case-study", "nurture-3-demo-invite",
          "product-update", "webinar-invite")
TRIAL_FEATURES = ("dashboards", "attribution", "data-import", "alerts", "invite-teammates", "crm-sync")
WEBINARS = ("Dashboards that drive revenue", "Attribution without the guesswork",
            "Analítica para equipos de ventas")
MEETINGS = ("discovery", "demo", "technical deep dive", "pricing review")
CALLS = ("connected", "left voicemail", "no answer")

# Browsers people submit forms from (relative weights): mostly desktop Chrome at work.
USER_AGENTS: tuple[tuple[str, float], ...] = (
    ("Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/130.0.0.0 "
     "Safari/537.36", 0.34),
    ("Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/130.0.0.0 "
     "Safari/537.36", 0.18),
    ("Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/18.1 "
     "Safari/605.1.15", 0.12),
    ("Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/130.0.0.0 "
     "Safari/537.36 Edg/130.0.0.0", 0.12),
    ("Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:132.0) Gecko/20100101 Firefox/132.0", 0.06),
    ("Mozilla/5.0 (iPhone; CPU iPhone OS 18_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) "
     "Version/18.1 Mobile/15E148 Safari/604.1", 0.1),
    ("Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/130.0.0.0 "
     "Mobile Safari/537.36", 0.08),
)
# First octets of consumer and business ISP ranges, so submission IPs look like real visitors.
IP_FIRST_OCTETS = (24, 50, 68, 73, 76, 81, 82, 86, 90, 92, 95, 98, 109, 151, 176, 177, 181, 186, 187, 189,
                   190, 191, 200, 201, 203)

# Spam the forms catch (spam.spam_reasons quarantines it): scripts, SEO spammers, throwaway addresses.
SPAM_USER_AGENTS = (
    "python-requests/2.32.3",
    "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) HeadlessChrome/129.0.0.0 Safari/537.36",
    "curl/8.5.0",
    "Mozilla/5.0 (Windows NT 6.1; WOW64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/49.0.2623.112 Safari/537.36",
)
# A few hosts that flood forms: documentation ranges (RFC 5737), never a real address.
SPAM_IPS = ("192.0.2.14", "198.51.100.77", "203.0.113.200", "198.51.100.3")
SPAM_FIRST_NAMES = ("Robertdrumn", "Crytopal", "Mike", "Eric Jones", "JosephTef", "Seo Expert", "Henrybag")
SPAM_LAST_NAMES = ("Robertdrumn", "Smith", "Jones", "Crytopal", "Marketing", "HenrybagHZ")
# Links and markup where a name goes: the tell spam.spam_reasons looks for.
SPAM_LINK_NAMES = ("Get 1st page on Google https://rank-boost.top", "<a href=\"http://cheap-backlinks.biz\">SEO</a>",
                   "Earn $5000/day www.crypto-bonus.click", "Claim your prize: https://bit.ly/3xPz9qK")
SPAM_COMPANIES = ("SEO Agency", "https://rank-boost.top", "Crypto Investments Ltd", "Web Design Pros", "Google")
SPAM_JOB_TITLES = ("Manager", "CEO", "SEO Specialist", "Marketing")
SPAM_HONEYPOT_VALUES = ("http://cheap-backlinks.biz", "Robertdrumn", "1", "buy now")
SPAM_FREE_DOMAINS = ("gmail.com", "outlook.com", "yahoo.com", "mail.ru", "hotmail.com")
DISPOSABLE_DOMAINS = ("mailinator.com", "guerrillamail.com", "yopmail.com", "10minutemail.com", "sharklasers.com",
                      "maildrop.cc")
SPAM_PAGES = ("/", "/demo", "/blog", "/lp/analytics-software")
# Email typos that make the product refuse a submission as invalid ({f} first name, {l} last name).
INVALID_EMAILS = ("{f}.{l}", "{f}.{l}@gmail", "{f}..{l}@gmail.com", "{f} {l}@outlook.com", "{f}{l}@hotmail..com")
