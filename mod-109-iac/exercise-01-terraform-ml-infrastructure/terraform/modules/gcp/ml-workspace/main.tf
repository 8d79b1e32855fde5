# The pieces of a Vertex AI workspace: a CMEK key (rotated every 90 days) used by everything
# below, a service account for the notebook and training jobs, a Vertex AI Tensorboard
# encrypted with that key, and a Workbench instance without a public IP, shielded, on the
# caller's private subnet, with CMEK boot and data disks. (The Vertex AI metadata store is a
# google-beta resource; Vertex AI creates the default one, CMEK-less, on first use.)

data "google_project" "this" {
  project_id = var.project_id
}

locals {
  agents = {
    aiplatform = "serviceAccount:service-${data.google_project.this.number}@gcp-sa-aiplatform.iam.gserviceaccount.com"
    compute    = "serviceAccount:service-${data.google_project.this.number}@compute-system.iam.gserviceaccount.com"
  }
}

resource "google_kms_key_ring" "this" {
  project  = var.project_id
  name     = "${var.name}-workspace"
  location = var.region
}

resource "google_kms_crypto_key" "this" {
  name            = "${var.name}-workspace"
  key_ring        = google_kms_key_ring.this.id
  purpose         = "ENCRYPT_DECRYPT"
  rotation_period = "7776000s"
  labels          = var.labels
  lifecycle {
    prevent_destroy = true
  }
}

resource "google_kms_crypto_key_iam_member" "agents" {
  for_each      = local.agents
  crypto_key_id = google_kms_crypto_key.this.id
  role          = "roles/cloudkms.cryptoKeyEncrypterDecrypter"
  member        = each.value
}

resource "google_service_account" "workspace" {
  project      = var.project_id
  account_id   = "${var.name}-workspace"
  display_name = "Vertex AI workspace ${var.name}"
}

resource "google_project_iam_member" "workspace" {
  for_each = toset(["roles/aiplatform.user", "roles/logging.logWriter", "roles/monitoring.metricWriter"])
  project  = var.project_id
  role     = each.value
  member   = google_service_account.workspace.member
}

resource "google_vertex_ai_tensorboard" "this" {
  project      = var.project_id
  region       = var.region
  display_name = "${var.name}-tensorboard"
  labels       = var.labels
  encryption_spec {
    kms_key_name = google_kms_crypto_key.this.id
  }
  depends_on = [google_kms_crypto_key_iam_member.agents]
}

resource "google_workbench_instance" "this" {
  project              = var.project_id
  name                 = "${var.name}-notebook"
  location             = var.zone
  instance_owners      = var.instance_owners
  disable_proxy_access = false
  labels               = var.labels
  gce_setup {
    machine_type      = var.machine_type
    disable_public_ip = true
    service_accounts {
      email = google_service_account.workspace.email
    }
    network_interfaces {
      network = var.network
      subnet  = var.subnet
    }
    shielded_instance_config {
      enable_secure_boot          = true
      enable_vtpm                 = true
      enable_integrity_monitoring = true
    }
    dynamic "accelerator_configs" {
      for_each = var.accelerator_type == null ? [] : [var.accelerator_type]
      content {
        type       = accelerator_configs.value
        core_count = 1
      }
    }
    boot_disk {
      disk_size_gb    = 150
      disk_type       = "PD_BALANCED"
      disk_encryption = "CMEK"
      kms_key         = google_kms_crypto_key.this.id
    }
    data_disks {
      disk_size_gb    = var.data_disk_size_gb
      disk_type       = "PD_BALANCED"
      disk_encryption = "CMEK"
      kms_key         = google_kms_crypto_key.this.id
    }
    metadata = {
      block-project-ssh-keys = "true"
      serial-port-enable     = "false"
    }
  }
  depends_on = [google_kms_crypto_key_iam_member.agents]
}
