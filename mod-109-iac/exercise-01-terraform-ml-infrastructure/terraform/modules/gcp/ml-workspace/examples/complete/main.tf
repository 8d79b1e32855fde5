# Every input of the workspace: a T4 Workbench notebook with a 500 GB data disk for one owner,
# on a private network from this library.
terraform {
  required_version = ">= 1.7, < 2.0"
  required_providers {
    google = {
      source  = "hashicorp/google"
      version = ">= 6.0, < 7.0"
    }
  }
}

variable "project_id" {
  type        = string
  description = "GCP project to deploy into."
}

variable "region" {
  type        = string
  description = "GCP region."
  default     = "europe-west4"
}

provider "google" {
  project = var.project_id
  region  = var.region
}

variable "owner_email" {
  type        = string
  description = "The data scientist who may open the notebook."
  default     = "data-scientist@example.com"
}

locals {
  labels = { cost-center = "ml-research", owner = "platform-team", environment = "prod" }
}

module "network" {
  source     = "../../../network"
  project_id = var.project_id
  name       = "ml-research"
  region     = var.region
  labels     = local.labels
}

module "workspace" {
  source            = "../.."
  project_id        = var.project_id
  name              = "research"
  region            = var.region
  zone              = "${var.region}-b"
  network           = module.network.network_id
  subnet            = module.network.subnet_id
  machine_type      = "n1-standard-8"
  accelerator_type  = "NVIDIA_TESLA_T4"
  data_disk_size_gb = 500
  instance_owners   = [var.owner_email]
  labels            = local.labels
}

output "notebook_proxy_uri" {
  description = "JupyterLab URI of the notebook."
  value       = module.workspace.notebook_proxy_uri
}

output "service_account_email" {
  description = "Identity the notebook runs as."
  value       = module.workspace.service_account_email
}
