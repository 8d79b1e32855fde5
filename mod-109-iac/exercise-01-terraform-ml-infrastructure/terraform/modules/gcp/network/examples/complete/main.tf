# Every input of the network: a private subnet with a /20 range of your choosing.
terraform {
  required_version = ">= 1.7, < 2.0"
  required_providers {
    google = {
      source  = "hashicorp/google"
      version = ">= 5.30, < 7.0"
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

module "network" {
  source     = "../.."
  project_id = var.project_id
  name       = "ml-complete"
  region     = var.region
  cidr_block = "10.52.0.0/20"
  labels     = { cost-center = "ml-platform", owner = "platform-team", environment = "prod" }
}

output "network_id" {
  description = "ID of the VPC network."
  value       = module.network.network_id
}

output "subnet_id" {
  description = "Private subnet for workloads."
  value       = module.network.subnet_id
}
