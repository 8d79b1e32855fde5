# GCP flavour of the platform (Vertex AI reference architecture): a custom VPC with a private
# subnet per zone pair and Cloud NAT, a CMEK key, data and model buckets, Artifact Registry,
# one service account per job, a Vertex AI endpoint and a Workbench instance.
# Static only on these machines: the google provider cannot be downloaded here.

locals {
  prefix      = "${var.name}-${var.environment}"
  subnet_bits = 24 - tonumber(split("/", var.network_cidr)[1])
  labels = merge(var.labels, {
    platform    = var.name
    environment = var.environment
    managed-by  = "terraform"
  })
}

resource "google_compute_network" "this" {
  project                 = var.project
  name                    = local.prefix
  auto_create_subnetworks = false
}

resource "google_compute_subnetwork" "private" {
  project                  = var.project
  name                     = "${local.prefix}-private"
  region                   = var.region
  network                  = google_compute_network.this.id
  ip_cidr_range            = cidrsubnet(var.network_cidr, local.subnet_bits, 10)
  private_ip_google_access = true
  log_config {
    aggregation_interval = "INTERVAL_5_SEC"
    flow_sampling        = 0.5
  }
}

# Nothing reaches the workloads from outside; Google's health checks aside.
resource "google_compute_firewall" "deny_ingress" {
  project   = var.project
  name      = "${local.prefix}-deny-ingress"
  network   = google_compute_network.this.id
  direction = "INGRESS"
  priority  = 65534
  deny {
    protocol = "all"
  }
  source_ranges = ["0.0.0.0/0"]
}

resource "google_compute_router" "this" {
  project = var.project
  name    = local.prefix
  region  = var.region
  network = google_compute_network.this.id
}

resource "google_compute_router_nat" "this" {
  project                            = var.project
  name                               = local.prefix
  router                             = google_compute_router.this.name
  region                             = var.region
  nat_ip_allocate_option             = "AUTO_ONLY"
  source_subnetwork_ip_ranges_to_nat = "ALL_SUBNETWORKS_ALL_IP_RANGES"
  min_ports_per_vm                   = var.high_availability ? 256 : 64
}

resource "google_kms_key_ring" "this" {
  project  = var.project
  name     = local.prefix
  location = var.region
}

resource "google_kms_crypto_key" "this" {
  name            = "${local.prefix}-data"
  key_ring        = google_kms_key_ring.this.id
  rotation_period = "7776000s" # 90 days
  labels          = local.labels
  lifecycle {
    prevent_destroy = true # losing the key loses every bucket and image it encrypts
  }
}

data "google_storage_project_service_account" "gcs" {
  project = var.project
}

resource "google_kms_crypto_key_iam_member" "gcs" {
  crypto_key_id = google_kms_crypto_key.this.id
  role          = "roles/cloudkms.cryptoKeyEncrypterDecrypter"
  member        = "serviceAccount:${data.google_storage_project_service_account.gcs.email_address}"
}

resource "google_storage_bucket" "this" {
  for_each                    = toset(["data", "models"])
  project                     = var.project
  name                        = "${local.prefix}-${var.project}-${each.key}"
  location                    = var.region
  force_destroy               = !var.deletion_protection
  uniform_bucket_level_access = true
  public_access_prevention    = "enforced"
  labels                      = merge(local.labels, { purpose = each.key })
  versioning {
    enabled = true
  }
  encryption {
    default_kms_key_name = google_kms_crypto_key.this.id
  }
  logging {
    log_bucket = "${local.prefix}-${var.project}-logs"
  }
  depends_on = [google_kms_crypto_key_iam_member.gcs]
}

resource "google_artifact_registry_repository" "models" {
  project       = var.project
  location      = var.region
  repository_id = "${local.prefix}-models"
  format        = "DOCKER"
  kms_key_name  = google_kms_crypto_key.this.id
  labels        = local.labels
  docker_config {
    immutable_tags = true
  }
}

locals {
  jobs = {
    training = ["roles/aiplatform.user", "roles/storage.objectViewer"]
    serving  = ["roles/aiplatform.user", "roles/artifactregistry.reader"]
    ci       = ["roles/artifactregistry.writer", "roles/aiplatform.user"]
  }
  job_roles = merge([for job, roles in local.jobs : { for role in roles : "${job}/${role}" => { job = job, role = role } }]...)
}

resource "google_service_account" "this" {
  for_each     = local.jobs
  project      = var.project
  account_id   = "${local.prefix}-${each.key}"
  display_name = "${local.prefix} ${each.key}"
}

resource "google_project_iam_member" "this" {
  for_each = local.job_roles
  project  = var.project
  role     = each.value.role
  member   = "serviceAccount:${google_service_account.this[each.value.job].email}"
}

resource "google_storage_bucket_iam_member" "models_writer" {
  bucket = google_storage_bucket.this["models"].name
  role   = "roles/storage.objectCreator"
  member = "serviceAccount:${google_service_account.this["training"].email}"
}

resource "google_vertex_ai_endpoint" "this" {
  project      = var.project
  name         = "${local.prefix}-endpoint"
  display_name = "${local.prefix}-endpoint"
  location     = var.region
  network      = "projects/${data.google_project.this.number}/global/networks/${google_compute_network.this.name}"
  labels       = local.labels
  encryption_spec {
    kms_key_name = google_kms_crypto_key.this.id
  }
}

data "google_project" "this" {
  project_id = var.project
}

resource "google_workbench_instance" "this" {
  project  = var.project
  name     = "${local.prefix}-notebook"
  location = "${var.region}-a"
  gce_setup {
    machine_type = var.notebook_instance_type
    boot_disk {
      disk_encryption = "CMEK"
      kms_key         = google_kms_crypto_key.this.id
    }
    data_disks {
      disk_encryption = "CMEK"
      kms_key         = google_kms_crypto_key.this.id
    }
    disable_public_ip    = true
    enable_ip_forwarding = false
    service_accounts {
      email = google_service_account.this["training"].email
    }
    network_interfaces {
      network = google_compute_network.this.id
      subnet  = google_compute_subnetwork.private.id
    }
    shielded_instance_config {
      enable_secure_boot          = true
      enable_vtpm                 = true
      enable_integrity_monitoring = true
    }
    metadata = {
      block-project-ssh-keys = "true"
    }
  }
  labels = local.labels
}

resource "google_pubsub_topic" "alerts" {
  project      = var.project
  name         = "${local.prefix}-alerts"
  kms_key_name = google_kms_crypto_key.this.id
}

data "google_billing_account" "this" {
  count           = var.enable_budget ? 1 : 0
  display_name    = var.project
  lookup_projects = true
}

resource "google_billing_budget" "monthly" {
  count           = var.enable_budget ? 1 : 0
  billing_account = data.google_billing_account.this[0].id
  display_name    = "${local.prefix}-monthly"
  amount {
    specified_amount {
      currency_code = "USD"
      units         = tostring(var.monthly_budget)
    }
  }
  threshold_rules {
    threshold_percent = 0.8
  }
  threshold_rules {
    threshold_percent = 1.0
    spend_basis       = "FORECASTED_SPEND"
  }
  all_updates_rule {
    pubsub_topic = google_pubsub_topic.alerts.id
  }
}
